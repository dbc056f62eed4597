// A deterministic world for the client core: a virtual clock whose timers fire in order as the test
// advances time, seeded randomness, in-memory storage, a window and document that tests can fire
// events on, scripted transports, and scripted one-shot requests (handshake, sends) answered by a
// stand-in fetch or, for script transports, a stand-in script request. It also counts the
// requests in flight, so a test can assert the client never holds more than two.
import type { KeyValueStorage, Platform, TimerHandle } from '../../src/platform.ts';
import { scriptUpstream } from '../../transports/script.ts';
import type { OneShotDone, Transport, TransportFailure, TransportListener, TransportName } from '../../transports/contract.ts';
import { seededRandom } from './seeded-random.mjs';
import { SyncPromise, syncResponse } from './sync-promise.ts';

interface Timer {
  id: number;
  dueMs: number;
  callback: () => void;
}

export interface FakePlatform extends Platform {
  /** Moves the clock forward, firing every timer that falls due, in order. */
  advance(ms: number): void;
  /** Fires the timers due now (for example the outbox's timer of 0). */
  flush(): void;
  /** Moves the wall clock without firing timers: a background tab whose timers are throttled. */
  jump(ms: number): void;
  readonly storageData: Map<string, string>;
  /** Requests in flight now (downstream and upstream), and the most ever at once. */
  inFlight: number;
  peakInFlight: number;
  fire(target: 'window' | 'document', type: string, init?: Record<string, unknown>): void;
}

/** Until `fakeOneShot` installs a scripted one, a fetch that never answers. */
const silentFetch = (() => new Promise<Response>(() => undefined)) as typeof fetch;

export function fakePlatform(options: { seed?: number; pageOrigin?: string; withWindow?: boolean; withFetch?: boolean } = {}): FakePlatform {
  let nowMs = 1_000_000;
  let nextId = 1;
  let timers: Timer[] = [];
  const storageData = new Map<string, string>();
  const storage: KeyValueStorage = {
    getItem: (key) => storageData.get(key) ?? null,
    setItem: (key, value) => { storageData.set(key, value); },
  };
  const windowTarget = Object.assign(new EventTarget(), { location: { origin: options.pageOrigin ?? 'http://page.test' } });
  const documentTarget = new EventTarget();
  const withWindow = options.withWindow ?? true;

  const runDue = (untilMs: number) => {
    for (;;) {
      const due = timers.filter((timer) => timer.dueMs <= untilMs).sort((a, b) => a.dueMs - b.dueMs || a.id - b.id)[0];
      if (!due) break;
      timers = timers.filter((timer) => timer !== due);
      nowMs = Math.max(nowMs, due.dueMs);
      due.callback();
    }
    nowMs = Math.max(nowMs, untilMs);
  };

  const platform: FakePlatform = {
    setTimeout(callback, delayMs) {
      const timer = { id: nextId++, dueMs: nowMs + Math.max(0, delayMs), callback };
      timers.push(timer);
      return timer.id;
    },
    clearTimeout(handle: TimerHandle) {
      timers = timers.filter((timer) => timer.id !== handle);
    },
    Date: { now: () => nowMs },
    Math: { random: seededRandom(options.seed ?? 42) },
    XMLHttpRequest: undefined,
    fetch: options.withFetch ?? true ? silentFetch : undefined,
    EventSource: undefined,
    document: withWindow ? (documentTarget as unknown as Document) : undefined,
    window: withWindow ? (windowTarget as unknown as Window) : undefined,
    localStorage: storage,
    ActiveXObject: undefined,
    advance: (ms) => runDue(nowMs + ms),
    flush: () => runDue(nowMs),
    jump: (ms) => { nowMs += ms; },
    storageData,
    inFlight: 0,
    peakInFlight: 0,
    fire(target, type, init = {}) {
      (target === 'window' ? windowTarget : documentTarget).dispatchEvent(Object.assign(new Event(type), init));
    },
  };
  return platform;
}

function started(platform: FakePlatform) {
  platform.inFlight++;
  platform.peakInFlight = Math.max(platform.peakInFlight, platform.inFlight);
  let open = true;
  return () => {
    if (open) platform.inFlight--;
    open = false;
  };
}

export interface FakeExchange {
  readonly url: URL;
  readonly since: number;
  readonly session: string | null;
  /** True once the client closed it or it ended. */
  done: boolean;
  closedByClient: boolean;
  /** Delivers decoded values, as a transport does with each chunk. */
  deliver(...values: unknown[]): void;
  end(failure?: TransportFailure): void;
}

export interface FakeTransport extends Transport {
  readonly exchanges: FakeExchange[];
  last(): FakeExchange;
}

const resources: Record<TransportName, string> = {
  eventsource: 'sse', 'xhr-streaming': 'xhr', multipart: 'multipart', iframe: 'iframe', 'long-polling': 'poll', jsonp: 'jsonp',
};

/** A transport the test drives by hand: each `open` becomes a `FakeExchange`. */
export function fakeTransport(platform: FakePlatform, name: TransportName, options: { supported?: boolean } = {}): FakeTransport {
  const exchanges: FakeExchange[] = [];
  return {
    name,
    resource: resources[name],
    streaming: name !== 'long-polling' && name !== 'jsonp',
    isSupported: () => options.supported ?? true,
    // Script transports bring the script upstream: the real route, over fakeOneShot's script requests.
    script: name === 'jsonp' || name === 'iframe' ? fakeScriptUpstream : undefined,
    exchanges,
    last() {
      const exchange = exchanges[exchanges.length - 1];
      if (!exchange) throw new Error(`${name} was never opened`);
      return exchange;
    },
    open(_platform, request, listener: TransportListener) {
      const finished = started(platform);
      const url = new URL(request.url, 'http://page.test');
      const exchange: FakeExchange = {
        url,
        since: Number(url.searchParams.get('since')),
        session: url.searchParams.get('session'),
        done: false,
        closedByClient: false,
        deliver(...values) {
          if (!exchange.done) listener.onValues(values);
        },
        end(failure) {
          if (exchange.done) return;
          exchange.done = true;
          finished();
          listener.onEnd(failure);
        },
      };
      exchanges.push(exchange);
      return {
        close() {
          exchange.done = exchange.closedByClient = true;
          finished();
        },
      };
    },
  };
}

/**
 * How a test answers a one-shot request: a JSON value, or a failure (with the error body of a
 * refusal as `value`). The fake turns it into what the network would give (an HTTP answer to
 * fetch, a call of the callback or a load error to a script), so the client's own decoding runs.
 */
export type OneShotResult =
  | { ok: true; value: unknown }
  | { ok: false; failure: TransportFailure; value?: unknown };

export interface FakeRequest {
  readonly kind: 'handshake' | 'send';
  readonly url: URL;
  /** The upstream messages of a send (from the POST body or the GET `messages` parameter). */
  readonly messages: { id: number; type: string; channel: string; data?: unknown }[];
  readonly via: 'fetch' | 'script';
  /** The request's init, for fetch. */
  readonly init: RequestInit | undefined;
  done: boolean;
  aborted: boolean;
  answer(result: OneShotResult): void;
}

export type Responder = (request: FakeRequest) => OneShotResult | undefined;

export const SESSION = 'session-one-0123456789abcdef';

export const handshakeAnswer = (overrides: Record<string, unknown> = {}): OneShotResult => ({
  ok: true,
  value: Object.assign({
    type: 'handshake', v: 1, session: SESSION, seq: 0, transports: ['sse', 'xhr', 'multipart', 'iframe', 'poll', 'jsonp'],
    heartbeatMs: 15000, holdMs: 25000, retryMs: 1000, maxStreamBytes: 131072, sessionTimeoutMs: 60000, maxBatchMessages: 100, maxBodyBytes: 65536,
  }, overrides),
});

/** Acknowledges every message of a send. */
export const ackAll: Responder = (request) =>
  ({ ok: true, value: { type: 'ack', ack: Math.max(0, ...request.messages.map((message) => message.id)), errors: [] } });

export interface FakeOneShot {
  readonly requests: FakeRequest[];
  /** A script request as transports/script.ts makes one (what scriptJson is given). */
  script(url: string, done: OneShotDone, timeoutMs?: number): () => void;
}

const oneShots = new WeakMap<Platform, FakeOneShot>();

/** The real script route, over the script requests of the platform's `fakeOneShot`. */
const fakeScriptUpstream = scriptUpstream((platform, { url, timeoutMs }, done) => {
  const io = oneShots.get(platform);
  if (!io) throw new Error('fakeOneShot was not installed on this platform');
  return io.script(url, done, timeoutMs);
});

/** What fetch receives for a result: a response (status, Content-Type and body), or a rejection (`undefined`). */
function response(result: OneShotResult): Response | undefined {
  const answer = syncResponse;
  if (result.ok) return answer(200, 'application/json; charset=utf-8', JSON.stringify(result.value));
  const { type, status = 500, detail } = result.failure;
  if (type === 'network') return undefined;
  if (type === 'content-type') return answer(200, 'text/html', '<html>sign in</html>');
  if (type === 'malformed') return answer(200, 'application/json', '{"type":');
  return answer(status, 'application/json', JSON.stringify(result.value ?? { type: 'error', code: detail }));
}

/**
 * The one-shot requests (handshake, sends) of a client on this platform: a fetch and a script
 * request that record each request and answer it by `respond` after a timer of 0 (as a network
 * would, never inside the call), or leave it pending when `respond` returns undefined.
 * `request.answer(result)` answers a pending one. A fetch aborted by its signal rejects, as a real
 * one does; a script request's timeout ends it as a network error.
 */
export function fakeOneShot(platform: FakePlatform, respond: { handshake?: Responder; send?: Responder } = {}): FakeOneShot {
  const requests: FakeRequest[] = [];
  const make = (url: string, via: 'fetch' | 'script', init: RequestInit | undefined, timeoutMs: number, reply: (result: OneShotResult) => void) => {
    const parsed = new URL(url, 'http://page.test');
    const kind = parsed.pathname.endsWith('/handshake') ? 'handshake' : 'send';
    const body = init?.body as string | undefined;
    const json = body ?? (parsed.searchParams.has('messages') ? `{"messages":${parsed.searchParams.get('messages') ?? ''}}` : undefined);
    const finished = started(platform);
    const timer = timeoutMs > 0 ? platform.setTimeout(() => { request.answer({ ok: false, failure: { type: 'network', detail: 'timed out' } }); }, timeoutMs) : undefined;
    const request: FakeRequest = {
      kind,
      url: parsed,
      via,
      init,
      messages: json ? (JSON.parse(json) as { messages: FakeRequest['messages'] }).messages : [],
      done: false,
      aborted: false,
      answer(result) {
        if (request.done) return;
        request.done = true;
        platform.clearTimeout(timer);
        finished();
        reply(result);
      },
    };
    requests.push(request);
    const responder = (kind === 'handshake' ? respond.handshake ?? (() => handshakeAnswer()) : respond.send ?? ackAll);
    platform.setTimeout(() => {
      const result = request.done ? undefined : responder(request);
      if (result) request.answer(result);
    }, 0);
    return () => {
      if (request.done) return;
      request.done = request.aborted = true;
      platform.clearTimeout(timer);
      finished();
    };
  };

  // Answers within the timer that answers the request, as a synchronous trace (sync-promise.ts).
  const scriptedFetch = (input: string | URL | Request, init?: RequestInit) => new SyncPromise<Response>((resolve, reject) => {
    const abort = make(typeof input == 'string' ? input : input instanceof URL ? input.href : input.url, 'fetch', init, 0, (result) => {
      const answer = response(result);
      if (answer) resolve(answer);
      else reject(new TypeError('Failed to fetch'));
    });
    init?.signal?.addEventListener('abort', () => {
      abort();
      reject(new DOMException('aborted', 'AbortError'));
    });
  });

  const io: FakeOneShot = {
    requests,
    // Scripted as the test says, a refusal's retryMs read from its body as fetchJson reads it.
    script: (url, done, timeoutMs = 0) => make(url, 'script', undefined, timeoutMs, (result) => {
      if (result.ok) done(undefined, result.value);
      else done({ ...result.failure, retryMs: (result.value as { retryMs?: number } | undefined)?.retryMs });
    }),
  };
  Object.assign(platform, { fetch: scriptedFetch });
  oneShots.set(platform, io);
  return io;
}

export const frames = {
  open: (seq = 0, heartbeatMs = 15000) => ({ type: 'open', seq, heartbeatMs }),
  msg: (seq: number, channel = 'room/42', data: unknown = `m${seq}`) => ({ type: 'msg', seq, channel, data }),
  hb: () => ({ type: 'hb' }),
  gap: (from: number, to: number) => ({ type: 'gap', from, to }),
  close: (code: string, reconnect: string, retryMs?: number) => (retryMs === undefined ? { type: 'close', code, reconnect } : { type: 'close', code, reconnect, retryMs }),
};
