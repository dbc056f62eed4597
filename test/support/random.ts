// A seeded pseudo-random generator (mulberry32), so that "random" test inputs are the same on
// every run and a failure can be replayed.
export { seededRandom } from './seeded-random.mjs';

/** The chunks a body reader hands over when `text` arrives cut at `cuts`. */
export function chunked(text: string, cuts: readonly number[]): string[] {
  const ends = [...cuts.filter((cut) => cut > 0 && cut < text.length).sort((a, b) => a - b), text.length];
  return ends.map((end, index) => text.slice(index ? ends[index - 1] : 0, end));
}

/** `count` random cut positions inside `text`. */
export function randomCuts(random: () => number, text: string, count: number): number[] {
  return Array.from({ length: count }, () => Math.floor(random() * text.length));
}

/**
 * The text chunks a body reader hands over when the UTF-8 bytes of `text` arrive cut at every
 * byte in `byteCuts`: both readers decode as a streaming decoder does, holding back a character
 * whose bytes are incomplete (a fetch body through TextDecoder with `stream: true`, an XHR's
 * responseText by itself).
 */
export function byteChunked(text: string, byteCuts: readonly number[]): string[] {
  const bytes = new TextEncoder().encode(text);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const ends = [...byteCuts.filter((cut) => cut > 0 && cut < bytes.length).sort((a, b) => a - b), bytes.length];
  return ends.map((end, index) => decoder.decode(bytes.subarray(index ? ends[index - 1] : 0, end), { stream: end < bytes.length }));
}
