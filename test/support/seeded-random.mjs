// One seeded pseudo-random generator (mulberry32) for every test that draws "random" inputs or
// faults, so a seed reproduces a run exactly. Plain JavaScript: the browser runner's config loads
// it through the fault proxy, outside any TypeScript loader.
export function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
