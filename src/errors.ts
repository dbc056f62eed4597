// Typed errors, and the one table that decides which failures the client retries and which end it.
import type { TransportFailure, TransportName } from '../transports/contract.ts';

/**
 * Whether the client retries after a failure of each type, and why. The reconnect policy's
 * `maxAttempts`/`maxElapsedMs` can still end a retried failure; nothing else decides this.
 */
const retried = {
  /** A cut by a proxy, a firewall, a restart or a lost network: it comes back. */
  network: true,
  /** 5xx and 429 pass; a proxy refusing one transport makes the negotiator move on. */
  'http-status': true,
  /** A captive portal's or proxy's HTML page: it goes away, or the negotiator moves on. */
  'content-type': true,
  /** A truncated chunk is a cut connection; resume from `since` loses nothing. */
  malformed: true,
  /** The engine cannot run this transport: the negotiator tries the next one. */
  unsupported: true,
  /** A silent connection or a late answer is treated as a cut one. */
  timeout: true,
  /** An answer not of the protocol's form, typically an intermediary's: ask again. */
  protocol: true,
  /**
   * A transport threw instead of reporting a failure (a bug in it, or in the client): the
   * negotiator moves on without taking it for a limit of the engine; with no candidate left, it
   * is retried as a cut is, in case the bug depends on the moment.
   */
  bug: true,
  /** The application or the server said no (4xx): asking again gets the same answer. */
  'handshake-refused': false,
  /** The server counted it as applied and refused it: sending it again is refused again. */
  'publish-refused': false,
  /** As a refused publish. */
  'subscribe-refused': false,
  /** The application closed the client. */
  closed: false,
  /** An application listener threw: reported, and delivery goes on. */
  listener: false,
} as const;

export type CometErrorType = keyof typeof retried;

export const isRetried = (type: CometErrorType): boolean => retried[type];

/** A failure of a transport, a one-shot request or the protocol layer's own checks. */
export interface Failure extends Omit<TransportFailure, 'type'> {
  readonly type: CometErrorType;
  /** What was thrown, for a `bug`. */
  readonly cause?: unknown;
  /**
   * It cut a healthy request: one that served for the server's `retryMs` after it proved itself,
   * or delivered a message. Coming back at once after it is no tight loop (PROTOCOL.md §8.2).
   */
  readonly healthy?: boolean;
}

export interface CometErrorInit {
  /** The transport in use, `null` for the handshake, upstream sends and errors of no transport. */
  transport?: TransportName | null;
  status?: number;
  willRetry?: boolean;
  /** The protocol's code: an ack error code (`forbidden`, ...) or the code of an HTTP error body (§9). */
  code?: string;
  cause?: unknown;
}

export class CometError extends Error {
  // Declared, not initialised: the constructor sets them all at once (a smaller bundle).
  declare readonly type: CometErrorType;
  declare readonly transport: TransportName | null;
  /** The HTTP status, when the failure had one. */
  declare readonly status: number | undefined;
  /** Whether the client will try again on its own. */
  declare readonly willRetry: boolean;
  declare readonly code: string | undefined;
  declare readonly cause: unknown;

  constructor(type: CometErrorType, message: string, init?: CometErrorInit) {
    super(message);
    Object.assign(this, { name: 'CometError', type, transport: null, willRetry: isRetried(type) }, init);
  }
}

/** A 4xx other than 408 (timeout) and 429 (rate limit): the server refused this request as such. */
export const isRefusal = (status = 0): boolean => status >= 400 && status < 500 && status !== 408 && status !== 429;

/** The error of a publish or send after close, with why it closed. */
export const closedError = (reason = 'client-close'): CometError => new CometError('closed', reason);

/** A listener's or handler's exception, reported as an error event of the client that registered it. */
export const listenerError = (cause: unknown): CometError => new CometError('listener', 'listener threw', { cause });
