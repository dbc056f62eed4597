// A seeded pseudo-random generator (mulberry32), so that "random" test inputs are the same on
// every run and a failure can be replayed.
export { seededRandom } from './seeded-random.mjs';

/** The successive texts an XHR's responseText goes through when `text` arrives cut at `cuts`. */
export function growing(text: string, cuts: readonly number[]): string[] {
  return [...cuts.filter((cut) => cut > 0 && cut < text.length).sort((a, b) => a - b), text.length].map((cut) => text.slice(0, cut));
}

/** `count` random cut positions inside `text`. */
export function randomCuts(random: () => number, text: string, count: number): number[] {
  return Array.from({ length: count }, () => Math.floor(random() * text.length));
}

/**
 * The responseText an XHR shows when the UTF-8 bytes of `text` arrive cut at every byte in
 * `byteCuts`: a streaming decoder holds back a character whose bytes are incomplete.
 */
export function growingBytes(text: string, byteCuts: readonly number[]): string[] {
  const bytes = new TextEncoder().encode(text);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const texts: string[] = [];
  let received = '';
  let from = 0;
  for (const cut of [...byteCuts.filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b), bytes.length]) {
    received += decoder.decode(bytes.subarray(from, cut), { stream: cut < bytes.length });
    from = cut;
    texts.push(received);
  }
  return texts;
}
