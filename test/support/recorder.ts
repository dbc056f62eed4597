// A TransportListener that records what a transport reports, for tests to wait on and assert.
import type { TransportFailure, TransportListener } from '../../transports/contract.ts';

export interface Recorder {
  readonly listener: TransportListener;
  /** Each onValues call's values, in order. */
  readonly batches: unknown[][];
  /** Every value received, in order. */
  values(): unknown[];
  /** How many times onEnd was called. */
  readonly endCount: number;
  /** Resolves with onEnd's failure (undefined for a clean end) once onEnd is called. */
  readonly ended: Promise<TransportFailure | undefined>;
}

export function recorder(): Recorder {
  let resolveEnd: (failure: TransportFailure | undefined) => void = () => undefined;
  const ended = new Promise<TransportFailure | undefined>((resolve) => { resolveEnd = resolve; });
  const record = {
    batches: [] as unknown[][],
    endCount: 0,
    ended,
    values: () => record.batches.flat(),
    listener: {
      onValues(values: unknown[]) { record.batches.push([...values]); },
      onEnd(failure?: TransportFailure) {
        record.endCount += 1;
        resolveEnd(failure);
      },
    },
  };
  return record;
}

/** Waits until `condition` holds, checking every few milliseconds; fails after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${condition.toString()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Lets pending I/O and timers run, to show that nothing more happens. */
export const settle = (ms = 50) => new Promise((resolve) => setTimeout(resolve, ms));
