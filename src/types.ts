// The shapes the connection and the public client share: states and their reasons, events,
// options, subscribers, and the connection as the clients on it see it.
import type { CometError, CometErrorType } from './errors.ts';
import type { Emitter } from './emitter.ts';
import type { NegotiatorFactory, TransportReason } from './negotiator.ts';
import type { Lifecycle } from './lifecycle.ts';
import type { Batching, OutboxItem } from './outbox.ts';
import type { Platform } from './platform.ts';
import type { Handshake } from './protocol.ts';
import type { Transport, TransportName } from '../transports/contract.ts';

export type CometState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** Why the state changed: a failure's error type, or one of these. */
export type StateReason =
  | CometErrorType
  | 'connected'       // a stream's first frame arrived, or a poll was answered
  | 'handshake'       // a session was established (polling transports need no further proof)
  | 'unknown-session' // the session expired: handshake again (§8.1)
  | 'server-close'    // the server closed the stream and asked for a backoff (`shutdown`, §8.1)
  | 'client-close'    // the application called close()
  | 'gave-up';        // the reconnect policy's maxAttempts or maxElapsedMs was reached

export type GapEvent = { from: number; to: number } | { reason: 'unknown-session' };

export interface ConnectionEvents {
  statechange: { state: CometState; reason: StateReason };
  transport: { name: TransportName; reason: TransportReason };
  gap: GapEvent;
  error: CometError;
  close: { reason: StateReason };
  /** Cross-tab sharing (crosstab.ts): this tab now runs the connection for every tab of its origin. */
  leader: { leader: boolean };
}

export interface ReconnectPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  maxAttempts: number;
  maxElapsedMs: number;
}

export interface CometClientCoreOptions {
  /**
   * The transports to use, in order of preference. Those the server does not offer or the engine
   * cannot run are skipped; the first that proves itself is used.
   */
  transports: readonly Transport[];
  /**
   * How the transport is chosen. The default tries the transports in order, each proven before it
   * is trusted, a failed one handing over to the next. Pass `createNegotiator` to also remember per
   * origin what worked (skipping known failures next time) and to re-probe a better transport after
   * falling back, as `CometClient` does; it only pays with more than one transport.
   * @default inOrder
   */
  negotiator?: NegotiatorFactory;
  /**
   * How upstream messages (subscribes, unsubscribes, publishes) are put into requests. The default
   * sends one message per request, and leaves checking a publish's data to the server. Pass
   * `batchMessages` to send the messages of a task together (up to the server's limits, split to
   * keep URLs short by script), to refuse data that cannot be sent before sending it (`bad-data`,
   * `too-large`) and to isolate the culprit of a batch the server refuses whole, as `CometClient`
   * does; it pays with many subscriptions or publishes.
   * @default oneByOne
   */
  batching?: Batching;
  /**
   * Which page events speed up recovery. Pass `pageLifecycle` to reconnect at once when the page
   * comes back online or back from the back-forward cache, and to check the heartbeat deadline
   * when it becomes visible (background tabs fire timers late), as `CometClient` does. Without it
   * the client recovers by its timers alone (a backoff, or the heartbeat tolerance).
   * @default none
   */
  lifecycle?: Lifecycle;
  /**
   * When and how long to reconnect after a failure: delays grow from `initialDelayMs` to
   * `maxDelayMs` with full jitter, above the server's `retryMs`. A connection that served for at
   * least `retryMs`, or delivered a message, and is then cut (no HTTP answer) comes back at
   * once, after a random wait below 100 ms; the
   * failures after that one back off (PROTOCOL.md §8.2). The client closes (reason
   * `gave-up`) after `maxAttempts` consecutive failures or `maxElapsedMs` of failing.
   * @default { initialDelayMs: 1000, maxDelayMs: 30000, maxAttempts: Infinity, maxElapsedMs: Infinity }
   */
  reconnect?: Partial<ReconnectPolicy>;
  /**
   * How long a streaming transport has to deliver its first frame before the client falls back to
   * the next one. Raise it on very slow networks; lower it to leave a buffering proxy sooner.
   * @default 5000
   */
  probeTimeoutMs?: number;
  /**
   * After falling back, how long the client works on the fallback before it tries the better
   * transport again (doubling after each failed try).
   * @default 60000
   */
  reprobeMs?: number;
  /**
   * A stream silent for this many heartbeat intervals (the server's `heartbeatMs`) counts as dead
   * and is reconnected. Ignored when `heartbeatToleranceMs` is given.
   * @default 2
   */
  heartbeatToleranceFactor?: number;
  /**
   * A fixed silence, in milliseconds, after which a stream counts as dead.
   * @default undefined (heartbeatToleranceFactor × heartbeatMs)
   */
  heartbeatToleranceMs?: number;
  /**
   * Send cookies with cross-origin requests (fetch, XHR and EventSource; script transports always do).
   * @default false
   */
  withCredentials?: boolean;
  /**
   * Extra request headers, sent by the fetch- and XHR-based transports, the handshake and upstream sends.
   * Cross-origin, any header makes the browser send a CORS preflight first.
   * @default {}
   */
  headers?: Readonly<Record<string, string>>;
  /**
   * How long the handshake and each upstream send may take before they count as failed (and are
   * retried).
   * @default 15000
   */
  sendTimeoutMs?: number;
  /**
   * Receives the client's debug trace: state changes, negotiation steps, retries.
   * @default silent
   */
  logger?: (message: string, detail?: unknown) => void;
  /**
   * How the client gets its connection. The default opens one of its own. Pass `sharedConnections`
   * to have every client of the page pointed at the same endpoint share one connection (so at most
   * two requests are in flight to it, however many clients there are), as `CometClient` does; the
   * first client's options then configure it.
   * @default createConnection (one connection per client)
   */
  connect?: ConnectionFactory;
  /**
   * Timers, clock, randomness and the browser objects the client uses. Inject one in tests.
   * @default browserPlatform()
   */
  platform?: Platform;
}

/** The options a connection runs with: the first client's, with its platform and logger resolved. */
export interface ConnectionOptions extends CometClientCoreOptions {
  platform: Platform;
  logger: (message: string, detail?: unknown) => void;
  /** @internal Cross-tab takeover (crosstab.ts): continue this session instead of a handshake. */
  _resume?: Resume | undefined;
}

/**
 * @internal A session to continue: its handshake answer with `seq` set to the `since` to resume
 * from, `_base`, the first upstream message id to use, and `_replay`, the messages to send first
 * from that id (the last request of the tab that ran the session before, crosstab.ts).
 */
export type Resume = Handshake & { _base?: number | undefined; _replay?: OutboxItem[] | undefined };

/** What a subscriber gets with each message's data. */
export interface MessageInfo {
  channel: string;
  seq: number;
}

export type MessageHandler<Data = unknown> = (data: Data, message: MessageInfo) => void;

/** The events of a client and what each listener receives. */
export type CometEvents = ConnectionEvents;

export interface Subscription {
  /** Stops delivery to this handler; the last handler of a channel unsubscribes from the server. */
  unsubscribe(): void;
}

/** A client's events: its listeners, and where its connection tells it what happened. */
export type ClientEvents = Emitter<CometEvents>;

/** What a client is: the API of `CometClientCore`, as a connection (or a share of one) gives it. */
export interface Client {
  /** `'connecting'`, `'open'`, `'reconnecting'` or `'closed'`. */
  readonly state: CometState;
  /** The downstream transport in use (or being tried), `null` before the first handshake and once closed. */
  readonly transport: TransportName | null;
  /**
   * Whether this tab runs the connection itself: `false` while it goes through the connection of
   * another tab of its origin (cross-tab sharing, `CometClient`'s default), and once closed.
   */
  readonly leader?: boolean;
  /** Calls `handler` with each message published on `channel`, once each and in order. */
  subscribe<Data = unknown>(channel: string, handler: MessageHandler<Data>): Subscription;
  /**
   * Publishes `data` (any JSON value) on `channel`. Resolves once the server acknowledged it;
   * rejects with a `CometError`: `publish-refused` (with the server's `code`) or `closed` when the
   * client closed first (the message may then still have been delivered).
   */
  publish(channel: string, data: unknown): Promise<void>;
  on: ClientEvents['on'];
  off: ClientEvents['off'];
  /** Closes the client: its subscriptions end, its pending publishes reject with `closed`. */
  close(): void;
}

/** A connection as the clients on it see it. */
export type Connection = Client;

/** Opens the connection a client uses (see `CometClientCoreOptions.connect`). */
export type ConnectionFactory = (endpoint: string, options: ConnectionOptions, events: ClientEvents) => Connection;
