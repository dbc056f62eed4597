// Typed errors, and the one table that decides which failures the client retries and which end it.
import type { TransportName } from '../transports/types.ts';

export type CometErrorType =
  | 'network' | 'http-status' | 'content-type' | 'malformed' | 'unsupported' | 'timeout' | 'protocol'
  | 'handshake-refused' | 'publish-refused' | 'subscribe-refused' | 'closed' | 'listener';

/**
 * Whether the client retries after a failure of each type, and why. The reconnect policy's
 * `maxAttempts`/`maxElapsedMs` can still end a retried failure; nothing else decides this.
 */
const retried: Record<CometErrorType, boolean> = {
  network: true,              // a cut by a proxy, a firewall, a restart or a lost network: it comes back
  'http-status': true,        // 5xx and 429 pass; a proxy refusing one transport makes the negotiator move on
  'content-type': true,       // a captive portal's or proxy's HTML page: it goes away, or the negotiator moves on
  malformed: true,            // a truncated chunk is a cut connection; resume from `since` loses nothing
  unsupported: true,          // the engine cannot run this transport: the negotiator tries the next one
  timeout: true,              // a silent connection or a late answer is treated as a cut one
  protocol: true,             // an answer not of the protocol's form, typically an intermediary's: ask again
  'handshake-refused': false, // the application or the server said no (4xx): asking again gets the same answer
  'publish-refused': false,   // the server counted it as applied and refused: sending it again is refused again
  'subscribe-refused': false, // as publish-refused, for a subscription
  closed: false,              // the application closed the client
  listener: false,            // an application listener threw: reported, delivery goes on
};

/** True when failures of this type are retried (before the reconnect policy's limits). */
export const isRetried = (type: CometErrorType): boolean => retried[type];

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
  override readonly name = 'CometError';
  readonly type: CometErrorType;
  readonly transport: TransportName | null;
  /** The HTTP status, when the failure had one. */
  readonly status: number | undefined;
  /** Whether the client will try again on its own. */
  readonly willRetry: boolean;
  readonly code: string | undefined;
  override readonly cause: unknown;

  constructor(type: CometErrorType, message: string, init: CometErrorInit = {}) {
    super(message);
    this.type = type;
    this.transport = init.transport ?? null;
    this.status = init.status;
    this.willRetry = init.willRetry ?? retried[type];
    this.code = init.code;
    this.cause = init.cause;
  }
}

/** A 4xx other than 408 (timeout) and 429 (rate limit): the server refused this request as such. */
export const isRefusal = (status = 0): boolean => status >= 400 && status < 500 && status !== 408 && status !== 429;
