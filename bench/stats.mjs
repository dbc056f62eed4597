// Summaries and Markdown for the bench jobs. Every figure a job reports goes through here, so the
// report shows the same statistics for every row: the median, the spread and the sample count.

/** The q-quantile (0..1) of already sorted numbers, by linear interpolation between ranks. */
export function quantile(sorted, q) {
  if (sorted.length === 0) return Number.NaN;
  const rank = (sorted.length - 1) * q;
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
}

/** p50, p99, IQR and count of a list of numbers (any order). */
export function summarize(values) {
  const sorted = Float64Array.from(values.filter((value) => Number.isFinite(value))).sort();
  return {
    n: sorted.length,
    p50: quantile(sorted, 0.5),
    p25: quantile(sorted, 0.25),
    p75: quantile(sorted, 0.75),
    p99: quantile(sorted, 0.99),
    min: sorted.length ? sorted[0] : Number.NaN,
    max: sorted.length ? sorted[sorted.length - 1] : Number.NaN,
  };
}

/** A number for a table cell: fixed decimals, or "—" when there is none. */
export function fmt(value, decimals = 1) {
  if (value === undefined || value === null || Number.isNaN(value)) return '—';
  if (!Number.isFinite(value)) return String(value);
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** Median and IQR of repeated runs as one cell: "1,234 (IQR 1,200–1,250, n=5)". */
export function medianCell(values, decimals = 0) {
  const s = summarize(values);
  if (s.n === 0) return '—';
  if (s.n === 1) return `${fmt(s.p50, decimals)} (n=1)`;
  return `${fmt(s.p50, decimals)} (IQR ${fmt(s.p25, decimals)}–${fmt(s.p75, decimals)}, n=${s.n})`;
}

/** A Markdown table from column names and rows of cells. */
export function table(columns, rows) {
  const escape = (cell) => String(cell ?? '—').replaceAll('|', '\\|').replaceAll('\n', ' ');
  return [
    `| ${columns.map(escape).join(' | ')} |`,
    `| ${columns.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(escape).join(' | ')} |`),
  ].join('\n');
}

/** Resolves after `ms`. */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Epoch milliseconds with sub-millisecond resolution, the clock every job stamps with. */
export const epochNow = () => performance.timeOrigin + performance.now();

/** Polls `check` every `everyMs` until it is truthy; throws with `what` after `timeoutMs`. */
export async function waitFor(check, what, timeoutMs, everyMs = 50) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * WIN, LOSS or TIE for cometkit's `ours` against a peer's `theirs`, where `better` says which way
 * wins. Within 5 % (or 0.05 absolute) of each other is a TIE: closer than run-to-run noise here.
 */
export function compare(ours, theirs, better) {
  // A side without a figure never got there (a stream that never resumed): the other side wins.
  if (!Number.isFinite(ours)) return 'LOSS';
  if (!Number.isFinite(theirs)) return 'WIN';
  if (Math.abs(ours - theirs) <= Math.max(0.05, 0.05 * Math.max(Math.abs(ours), Math.abs(theirs)))) return 'TIE';
  return (better === 'lower' ? ours < theirs : ours > theirs) ? 'WIN' : 'LOSS';
}
