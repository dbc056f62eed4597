// The one interface every transport implements. A transport only moves bytes: it opens one HTTP
// exchange, decodes the wire encoding into JSON values and hands them over in order. What the
// values mean (frames, sequence numbers, acknowledgements) belongs to the protocol layer in src/,
// so a second protocol can drive the same transports.
import type { Platform } from '../src/platform.ts';
import type { ScriptUpstream } from './script.ts';

/** Transport names as the public API spells them. */
export type TransportName = 'eventsource' | 'xhr-streaming' | 'multipart' | 'iframe' | 'long-polling' | 'jsonp';

/** Why a transport exchange failed. */
export type TransportErrorType =
  | 'network'          // the request failed below HTTP (refused, reset, aborted by an intermediary)
  | 'http-status'      // an answer other than 200
  | 'content-type'     // a 200 of the wrong type: typically a proxy's or captive portal's HTML page
  | 'malformed'        // bytes that do not decode: truncated chunk, bad JSON, broken framing
  | 'unsupported';     // the engine cannot run this transport (found while probing)

export interface TransportFailure {
  readonly type: TransportErrorType;
  readonly status?: number;
  readonly detail: string;
  /** A refusal's `retryMs` (§6.4, §9): the floor of the next retry's delay. */
  readonly retryMs?: number;
}

export interface TransportRequest {
  /** The full URL of the exchange, query included (the transport may add its own parameters). */
  readonly url: string;
  /** Send cookies on cross-origin requests (XHR, EventSource). */
  readonly withCredentials: boolean;
  /** Extra request headers, for transports that can send them (XHR only). */
  readonly headers: Readonly<Record<string, string>>;
}

export interface TransportListener {
  /** JSON values decoded from the wire, in arrival order; one call per chunk that held any. */
  onValues(values: unknown[]): void;
  /** The exchange is over: ended by the server (no failure) or failed. Called once, never after close(). */
  onEnd(failure?: TransportFailure): void;
}

export interface TransportExchange {
  /** Ends the exchange now; no listener call follows. */
  close(): void;
}

export interface Transport {
  readonly name: TransportName;
  /** The protocol's path segment for this transport's downstream resource (`sse`, `xhr`, ...). */
  readonly resource: string;
  /** True when one response carries many batches; such transports are probed before they are trusted. */
  readonly streaming: boolean;
  /** Whether the environment has what the transport needs: feature detection, never the user agent. */
  isSupported(platform: Platform): boolean;
  open(platform: Platform, request: TransportRequest, listener: TransportListener): TransportExchange;
  /**
   * Set on transports that reach a cross-origin endpoint without CORS (jsonp, iframe): the
   * script-tag route the client then uses for its handshake and upstream sends too. A transport
   * brings it, so that an application without such a transport does not carry it.
   */
  readonly script?: ScriptUpstream | undefined;
}
