// What the Bayeux suites in Node share: a client on a platform of its own (its own cookie jar, so
// its own "browser" to CometD), recording what it receives and reports, and waiting on conditions
// with a generous bound (never a fixed sleep).
import { BayeuxClient, type BayeuxClientOptions } from '../../src/bayeux/index.ts';
import type { CometError } from '../../src/errors.ts';
import type { GapEvent, StateReason } from '../../src/types.ts';
import { nodePlatform } from '../support/node-platform.ts';

export interface Recorded {
  readonly client: BayeuxClient;
  /** The data received per channel, in order. */
  readonly received: Map<string, unknown[]>;
  readonly errors: CometError[];
  readonly states: string[];
  readonly gaps: GapEvent[];
  /** Starts recording `channel` (subscribes). */
  listen(channel: string): { unsubscribe(): void };
  of(channel: string): unknown[];
  close(): void;
}

/** Quick reconnects keep the suites short; the jitter stays. */
export const QUICK = { reconnect: { initialDelayMs: 100, maxDelayMs: 500 } } as const;

export function recordedClient(url: string, options: BayeuxClientOptions & { page?: boolean; eventSource?: boolean; fetch?: typeof fetch } = {}): Recorded {
  const platform = nodePlatform({ page: options.page, eventSource: options.eventSource, fetch: options.fetch });
  const client = new BayeuxClient(url, { ...QUICK, ...options, platform });
  const received = new Map<string, unknown[]>();
  const errors: CometError[] = [];
  const states: string[] = [];
  const gaps: GapEvent[] = [];
  client.on('error', (error) => errors.push(error));
  client.on('statechange', ({ state, reason }: { state: string; reason: StateReason }) => states.push(`${state}:${reason}`));
  client.on('gap', (gap) => gaps.push(gap));
  const of = (channel: string) => {
    let list = received.get(channel);
    if (!list) received.set(channel, list = []);
    return list;
  };
  return {
    client, received, errors, states, gaps, of,
    listen: (channel) => client.subscribe(channel, (data) => of(channel).push(data)),
    close() {
      client.close();
      platform.close();
    },
  };
}

/** Resolves once `condition` holds; fails with `what` after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Publishes marker messages on `channel` until `seen` says one arrived: proves a subscription is live on the server. */
export async function untilDelivered(publish: (marker: number) => Promise<unknown>, seen: () => boolean, what: string): Promise<void> {
  let marker = 0;
  const deadline = Date.now() + 20000;
  while (!seen()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await publish(++marker);
    await waitFor(seen, what, 300).catch(() => undefined);
  }
}
