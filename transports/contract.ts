// What the client core (src/) and the transports share, and all they share: the one interface every
// transport implements, how an exchange fails, the one-shot requests (handshake, sends, polls) and
// the upstream routes a script transport brings. A transport only moves bytes: it opens one HTTP
// exchange, decodes the wire encoding into JSON values and hands them over in order. What the
// values mean (frames, sequence numbers, acknowledgements) belongs to the protocol layer in src/,
// so a second protocol (src/bayeux/) drives the same transports.
//
// Dependencies point one way: src/ imports transports/, and transports/ import nothing of src/ but
// the Platform (the environment every part reaches through). `npm run lint` checks it
// (scripts/check-layers.mjs).
import type { Platform } from '../src/platform.ts';

/** Transport names as the public API spells them. */
export type TransportName = 'eventsource' | 'xhr-streaming' | 'multipart' | 'iframe' | 'long-polling' | 'jsonp';

/** Receives the client's debug trace (`CometClientCoreOptions.logger`). */
export type Logger = (message: string, detail?: unknown) => void;

/** Why a transport exchange failed. */
export type TransportErrorType =
  | 'network'          // the request failed below HTTP (refused, reset, aborted by an intermediary)
  | 'http-status'      // an answer other than 200
  | 'content-type'     // a 200 of the wrong type: typically a proxy's or captive portal's HTML page
  | 'malformed'        // bytes that do not decode: truncated chunk, bad JSON, broken framing
  | 'unsupported';     // the engine cannot run this transport (found while probing)

export interface TransportFailure<Type extends string = TransportErrorType> {
  readonly type: Type;
  readonly status?: number | undefined;
  /** What failed, briefly; a refusal with the protocol's JSON error body gives its `code` here. */
  readonly detail: string;
  /** A refusal's `retryMs` (§6.4, §9): the floor of the next retry's delay. */
  readonly retryMs?: number | undefined;
}

/** A failure of `type`; the protocol layer makes its own types of failure with it too. */
export const fail = <Type extends string = TransportErrorType>(type: Type, detail: string, status?: number, retryMs?: number): TransportFailure<Type> =>
  ({ type, detail, status, retryMs });

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
  /**
   * Whether the environment has what the transport needs: feature detection, never the user
   * agent. The negotiator opens only a transport that says yes.
   */
  isSupported(platform: Platform): boolean;
  /**
   * Opens one exchange. Every failure, the engine's included, goes to `listener.onEnd`: an
   * exception thrown here is a bug, which the connection reports as one (an `error` of type `bug`
   * naming the transport) and does not remember as the engine's.
   */
  open(platform: Platform, request: TransportRequest, listener: TransportListener): TransportExchange;
  /**
   * Set on transports that reach a cross-origin endpoint without CORS (jsonp, iframe): the
   * script-tag route the client then uses for its handshake and upstream sends too. A transport
   * brings it, so that an application without such a transport does not carry it.
   */
  readonly script?: ScriptUpstream | undefined;
}

/**
 * Receives the answer of a one-shot exchange: its JSON value, or why it failed. A refusal that
 * carries the protocol's JSON error body (`{"type":"error","code":...}`, with `retryMs` for 429
 * and 503) gives its `code` as the failure's `detail` and its `retryMs` as the failure's.
 */
export type OneShotDone = (failure: TransportFailure | undefined, value?: unknown) => void;

/** Starts a one-shot exchange; returns the function that ends it, after which `done` is not called. */
export type OneShot<Request> = (platform: Platform, request: Request, done: OneShotDone) => () => void;

/**
 * How the connection sends its one-shot requests: the handshake (`url` as is) or a send of
 * `messages`, a JSON array. Returns the function that aborts it.
 */
export type Upstream = (url: string, done: OneShotDone, messages?: string) => () => void;

/** The upstream the connection uses when a script transport brings one (see `Transport.script`). */
export interface ScriptRoute {
  send: Upstream;
  /** Whether the endpoint is reached by script now, so that only script transports qualify. */
  readonly scriptOnly: boolean;
  /** By script, the encoded characters a send's messages may take, so that its URL stays short enough. */
  room: (sendUrl: string) => number | undefined;
}

export interface ScriptRouteOptions {
  platform: Platform;
  endpoint: string;
  /** The connection's transports: when all of them go by script, so do the handshake and sends. */
  transports: readonly Transport[];
  /** The connection's own upstream, by fetch, used while the endpoint answers it. */
  direct: Upstream;
  log: Logger;
  /** How long a script request may take before it fails as a network error. */
  timeoutMs: number;
}

/** Makes the route over the connection's fetch upstream. */
export type ScriptUpstream = (options: ScriptRouteOptions) => ScriptRoute;
