// Helpers the browser suites share: where the fixture server is, the raw protocol calls a
// transport-level test needs, and waiting on a condition with a generous bound.

/**
 * Test code may name the engine to state what was measured in it (WebKit cannot read multipart
 * bodies); the library never does.
 */
export const isWebKit = navigator.userAgent.includes('AppleWebKit') && !/Chrome|Chromium/.test(navigator.userAgent);

export interface FixtureEnv {
  /** The reference server mounted in the test runner's own origin. */
  sameOrigin: string;
  /** The reference server on another port: another origin, CORS allowed for any origin. */
  crossOrigin: string;
  /** The fault suites' server (any origin, 1 s heartbeat) behind a shared fault proxy kept in `pass`. */
  proxied: string;
}

export async function fixtureEnv(): Promise<FixtureEnv> {
  const response = await fetch('/__fixture/env');
  return (await response.json()) as FixtureEnv;
}

export interface Handshake { session: string; seq: number; transports: string[] }

export async function handshake(endpoint: string): Promise<Handshake> {
  const response = await fetch(`${endpoint}/handshake?v=1`, { method: 'POST' });
  return (await response.json()) as Handshake;
}

export async function send(endpoint: string, session: string, messages: unknown[]): Promise<unknown> {
  const response = await fetch(`${endpoint}/send?session=${session}`, {
    method: 'POST',
    headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
    body: JSON.stringify({ messages }),
  });
  return response.json();
}

/** Asks the fixture to publish `count` messages `{ index, pad }` on a channel of the given server. */
export async function publish(endpoint: string, channel: string, count = 1, size = 0): Promise<void> {
  const control = endpoint.replace(/\/comet$/, '/__fixture');
  await fetch(`${control}/publish?channel=${encodeURIComponent(channel)}&count=${count}&size=${size}`);
}

/** Resolves once the condition holds; rejects after a generous bound so a stuck test fails clearly. */
export function waitFor(condition: () => boolean, what: string, timeoutMs = 15000): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const check = () => {
      if (condition()) resolve();
      else if (Date.now() - started > timeoutMs) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(check, 10);
    };
    check();
  });
}

// The fault suites: a fault proxy of the test's own in front of the fixture's proxied server, and
// that server's control routes, all reached same-origin so that no control request crosses a proxy.

export type FaultMode = 'pass' | 'stall' | 'buffer' | 'chaos';

export interface ProxyStats {
  mode: FaultMode;
  /** Connections open now. */
  open: number;
  connections: number;
  cuts: number;
  /** Open connections silenced by stallOpen(). */
  stalls: number;
  maxConcurrent: number;
}

const FAULTS = '/__fixture/faults/';

async function faultsControl<T>(route: string, params: Record<string, string | number> = {}): Promise<T> {
  const query = Object.entries(params).map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('&');
  const response = await fetch(`${FAULTS}${route}?${query}`);
  if (!response.ok) throw new Error(`fixture route ${route} answered ${response.status}`);
  return (await response.json()) as T;
}

export class FaultProxy {
  private constructor(readonly id: string, readonly endpoint: string) {}

  /**
   * A new proxy in `pass` mode. A chaos cut comes `cutMs` after a connection opened or, with
   * `cutBytes`, after that many answer bytes, whichever is first (each drawn from its range).
   */
  static async create(options: { seed?: number; cutMs?: [number, number]; cutBytes?: [number, number] } = {}): Promise<FaultProxy> {
    const params: Record<string, number> = {};
    if (options.seed !== undefined) params.seed = options.seed;
    if (options.cutMs) [params.cutMinMs, params.cutMaxMs] = options.cutMs;
    if (options.cutBytes) [params.cutMinBytes, params.cutMaxBytes] = options.cutBytes;
    const { id, endpoint } = await faultsControl<{ id: string; endpoint: string }>('create', params);
    return new FaultProxy(id, endpoint);
  }

  /** Applies to connections opened from now on. */
  setMode(mode: FaultMode): Promise<ProxyStats> { return faultsControl('mode', { id: this.id, mode }); }
  /** Cuts every open connection. */
  cutAll(): Promise<ProxyStats> { return faultsControl('cut', { id: this.id }); }
  /** Silences every open connection for good (no more answer bytes, no close). */
  stallOpen(): Promise<ProxyStats> { return faultsControl('stall', { id: this.id }); }
  stats(): Promise<ProxyStats> { return faultsControl('stats', { id: this.id }); }
  close(): Promise<ProxyStats> { return faultsControl('close', { id: this.id }); }
}

/** Publishes `{ index, pad }` for index `from` .. `from + count - 1` on the proxied server, directly. */
export async function publishProxied(channel: string, from: number, count: number, size = 0): Promise<number> {
  const { reached } = await faultsControl<{ reached: number }>('publish', { channel, from, count, size });
  return reached;
}

export interface ProxiedInspection {
  perSession: { id: string; subscriptions: string[]; seq: number; buffered: number; maxInFlight: number }[];
}

export function inspectProxied(): Promise<ProxiedInspection> {
  return faultsControl('inspect');
}

/**
 * What is wrong with a sequence of payload indexes that should be exactly 1..expected: values out
 * of order or repeated, and the ranges missing. Empty when it is right; short enough for a failure message.
 */
export function sequenceProblems(indexes: readonly number[], expected: number): string[] {
  const problems: string[] = [];
  const seen = new Set<number>();
  indexes.forEach((index, position) => {
    if (seen.has(index)) problems.push(`${index} again at position ${position}`);
    else if (position > 0 && index < indexes[position - 1]!) problems.push(`${index} after ${indexes[position - 1]!}`);
    seen.add(index);
  });
  let missingFrom = 0;
  for (let index = 1; index <= expected + 1; index += 1) {
    if (index <= expected && !seen.has(index)) missingFrom ||= index;
    else if (missingFrom) {
      problems.push(missingFrom === index - 1 ? `${missingFrom} missing` : `${missingFrom}..${index - 1} missing`);
      missingFrom = 0;
    }
  }
  const extra = [...seen].filter((index) => index < 1 || index > expected);
  if (extra.length) problems.push(`unexpected ${extra.slice(0, 5).join(', ')}`);
  return problems.length > 12 ? [...problems.slice(0, 12), `and ${problems.length - 12} more`] : problems;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
