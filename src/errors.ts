// Typed errors, and the one table that decides which failures the client retries and which end it.
import type { TransportName } from '../transports/contract.ts';

export type CometErrorType =
  | 'network' | 'http-status' | 'content-type' | 'malformed' | 'unsupported' | 'timeout' | 'protocol'
  | 'handshake-refused' | 'publish-refused' | 'subscribe-refused' | 'closed' | 'listener';

/**
 * Whether the client retries after a failure of each type, and why. The reconnect policy's
 * `maxAttempts`/`maxElapsedMs` can still end a retried failure; nothing else decides this.
 * Retried:
 * - network: a cut by a proxy, a firewall, a restart or a lost network: it comes back
 * - http-status: 5xx and 429 pass; a proxy refusing one transport makes the negotiator move on
 * - content-type: a captive portal's or proxy's HTML page: it goes away, or the negotiator moves on
 * - malformed: a truncated chunk is a cut connection; resume from `since` loses nothing
 * - unsupported: the engine cannot run this transport: the negotiator tries the next one
 * - timeout: a silent connection or a late answer is treated as a cut one
 * - protocol: an answer not of the protocol's form, typically an intermediary's: ask again
 * Not retried:
 * - handshake-refused: the application or the server said no (4xx): asking again gets the same answer
 * - publish-refused, subscribe-refused: the server counted it as applied and refused it: sending it
 *   again is refused again
 * - closed: the application closed the client
 * - listener: an application listener threw: reported, delivery goes on
 */
export const isRetried = (type: CometErrorType): boolean => !/refused|closed|listener/.test(type);

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
