// The lifecycle both protocol drivers share (connection.ts for PROTOCOL.md, bayeux/session.ts for
// Bayeux): one explicit state machine, the one request in flight (a continuation of an older one is
// stale), what a failure leads to (a fallback to the next transport, a retry after a backoff, or
// the end), the page events that cut a wait short, and the end. Each driver says what its requests
// are; this module decides when the next one goes and what the application is told.
import { backoffDelay } from './backoff.ts';
import { CometError, isRefusal, isRetried, type Failure } from './errors.ts';
import { inOrder, type Negotiator } from './negotiator.ts';
import type { ClientEvents, CometState, ConnectionOptions, StateReason } from './types.ts';
import { createWatchdog, type Watchdog } from './watchdog.ts';
import type { Transport, TransportExchange } from '../transports/contract.ts';

/**
 * The states each state may change to. A change to any other is no change: to the same state (a
 * second failure while reconnecting), or out of `closed`, which is final. Nothing returns to
 * `connecting`: that is only where a connection starts.
 */
export const transitions: Readonly<Record<CometState, readonly CometState[]>> = {
  connecting: ['open', 'reconnecting', 'closed'],
  open: ['reconnecting', 'closed'],
  reconnecting: ['open', 'closed'],
  closed: [],
};

/** Tells the application of a change to `state`: `statechange`, and `close` when it closed. */
export function announce(emit: ClientEvents['emit'], state: CometState, reason: StateReason): void {
  emit('statechange', { state, reason });
  if (state == 'closed') emit('close', { reason });
}

/** What a protocol driver gives the state machine, beyond its options and events. */
export interface ReconnectDriver {
  endpoint: string;
  /** The transports the driver can run, in the application's order of preference. */
  preference: readonly Transport[];
  /** The least a retry waits unless told otherwise (the server's `retryMs`). @default 0 */
  floorMs?: () => number;
  /** Whether the server allows a retry (Bayeux: unless its advice says `none`). @default yes */
  mayRetry?: () => boolean;
  /** Whether the detail of a failure with an HTTP status is the protocol's error code (§9): the native protocol's are. */
  errorCodes?: boolean;
  /**
   * Opens the next request: the handshake, or the session's next request on the current
   * transport (after a wait, or at once on the next candidate after a fallback).
   */
  resume: () => void;
  /** Ends what else the connection holds open, before a wait or the end (Bayeux: its stream). */
  halt?: () => void;
  /** The connection closed for good: settle what is queued. */
  closed: (reason: StateReason) => void;
}

/** Its functions use no `this`. */
export interface Reconnect {
  readonly state: CometState;
  /** Chooses the transport (`CometClientCoreOptions.negotiator`); its choices are `transport` events. */
  readonly negotiator: Negotiator;
  /** The one timer: the deadline of the request in flight, or the wait before the next attempt. */
  readonly timer: Watchdog;
  /** Changes the state if `transitions` allow it, and tells the application. */
  transition: (next: CometState, reason: StateReason) => void;
  /**
   * Ends the request in flight and opens the next with `open`, which is given the check that says
   * whether that request is still the current one: a continuation of an older one is stale and
   * does nothing. What `open` returns is held as the request in flight.
   */
  request: (open: (current: () => boolean) => TransportExchange) => void;
  /** Ends the request in flight and, unless `keepTimer`, its timer; later continuations of it are stale. */
  stop: (keepTimer?: boolean) => void;
  /** A request proved the connection: no failure any more, and `open`. */
  succeeded: () => void;
  /** Whether the policy allows another attempt (`maxAttempts`, `maxElapsedMs`). */
  canRetry: () => boolean;
  /** The backoff before retry `attempt`, at least `floorMs` (by default the `floorMs` option's). */
  delay: (attempt: number, floorMs?: number) => number;
  /**
   * `reconnecting`, then the next request after the backoff (at least `floorMs`), or within
   * `QUICK_RETRY_MS` when `quick`; closed with `gave-up` when the policy allows no more.
   */
  retry: (reason: StateReason, floorMs?: number, quick?: boolean) => void;
  /** Closed for good, with `reason`. */
  shutdown: (reason: StateReason) => void;
  /**
   * A failure of the handshake (no `transport`), of a transport's request or of the protocol
   * layer's own checks: reported as a typed error, then a fallback, a retry or the end.
   */
  failed: (failure: Failure, transport?: Transport) => void;
}

/**
 * The one request in flight (a handshake, a downstream request, a Bayeux connect) under the
 * connection's one timer. A continuation of a request that another one replaced is stale.
 */
function requestSlot(timer: Watchdog) {
  /** Counts requests: a continuation holding an older count is stale. */
  let run = 0;
  let inFlight: TransportExchange | undefined;
  const stop = (keepTimer?: boolean) => {
    run++;
    inFlight?.close();
    inFlight = undefined;
    if (!keepTimer) timer.stop();
  };
  const request = (open: (current: () => boolean) => TransportExchange) => {
    stop();
    const mine = run;
    const current = () => mine == run;
    const exchange = open(current);
    // `open` may have failed it at once, and a newer request taken its place.
    if (current()) inFlight = exchange;
    else exchange.close();
  };
  return { stop, request, idle: () => !inFlight };
}

/**
 * §8.2: a healthy request that was cut comes back after a uniform random wait below this. The wait
 * keeps the clients of one mass cut (a proxy restart) from arriving in one instant: 10,000 of them
 * arrive at about 100 a millisecond. Its median, 50 ms, is what a single cut costs.
 */
const QUICK_RETRY_MS = 100;

export function createReconnect(options: ConnectionOptions, emit: ClientEvents['emit'], driver: ReconnectDriver): Reconnect {
  const { platform, reconnect: policy = {}, logger: log } = options;
  const { resume, halt, closed } = driver;
  const negotiator = (options.negotiator ?? inOrder)({
    platform, endpoint: driver.endpoint, preference: driver.preference, reprobeMs: options.reprobeMs, log,
    chose: (name, reason) => { emit('transport', { name, reason }); },
  });
  const { maxAttempts = Infinity, maxElapsedMs = Infinity } = policy;
  const timer = createWatchdog(platform);
  const { stop, request, idle } = requestSlot(timer);
  let state: CometState = 'connecting';
  let attempts = 0;
  /** When the first of the consecutive failures happened. */
  let failingSince = 0;

  function transition(next: CometState, reason: StateReason) {
    if (!transitions[state].includes(next)) return;
    state = next;
    log(next, reason);
    announce(emit, next, reason);
  }

  const canRetry = () => attempts < maxAttempts && (!attempts || platform.Date.now() - failingSince < maxElapsedMs);
  const delay = (attempt: number, floorMs = driver.floorMs?.() ?? 0) => backoffDelay(attempt, policy, () => platform.Math.random(), floorMs);

  function retry(reason: StateReason, floorMs?: number, quick?: boolean) {
    if (!canRetry()) return shutdown('gave-up');
    stop();
    halt?.();
    if (!attempts) failingSince = platform.Date.now();
    transition('reconnecting', reason);
    const waitMs = quick ? platform.Math.random() * QUICK_RETRY_MS : delay(attempts, floorMs);
    attempts++;
    log('retry', waitMs);
    timer.set(waitMs, resume);
  }

  function shutdown(reason: StateReason) {
    if (state == 'closed') return;
    transition('closed', reason);
    stop();
    halt?.();
    closed(reason);
    unlisten?.();
  }

  function failed({ type, detail, status, retryMs, cause, healthy }: Failure, transport?: Transport) {
    if (!transport && isRefusal(status)) type = 'handshake-refused';
    // Before a transport proved itself, any failure hands over to the next candidate at once, in
    // the same session, from the same since: nothing is lost. The handshake just got through, so
    // even a network failure points at the transport (WebKit fails a multipart body that way).
    const fallback = !!transport && negotiator.fail(type);
    const willRetry = fallback || (isRetried(type) && (driver.mayRetry?.() ?? true) && canRetry());
    const code = driver.errorCodes && status ? detail : undefined;
    emit('error', new CometError(type, detail, { transport: transport?.name ?? null, status, willRetry, code, cause }));
    if (fallback) resume();
    // §8.2: a healthy request that was cut or went silent (no HTTP answer to heed) comes back at
    // once, with a little jitter; a failure after that one waits out the backoff.
    else if (willRetry) retry(type, retryMs, !attempts && !status && healthy);
    else shutdown(type == 'handshake-refused' ? type : 'gave-up');
  }

  // Back online, or back from the back-forward cache: reconnect at once instead of waiting out a
  // backoff (reconnecting with no request in flight); a page restored from that cache had its
  // connections cut. Otherwise check the deadline by the wall clock. Heard through
  // `options.lifecycle` (lifecycle.ts), which removes its listeners when the connection closes.
  const wake = (event: Event) => {
    if ((state == 'reconnecting' && idle()) || (event as PageTransitionEvent).persisted) resume();
    else timer.check();
  };
  const unlisten = options.lifecycle?.(platform, wake, timer.check);

  return {
    get state() {
      return state;
    },
    negotiator,
    timer,
    transition,
    request,
    stop,
    succeeded() {
      attempts = 0;
      transition('open', 'connected');
    },
    canRetry,
    delay,
    retry,
    shutdown,
    failed,
  };
}
