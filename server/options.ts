// Options of the reference server: the public type with its documentation, and the resolution of
// defaults into the fully-populated form the rest of the server reads.
import type { IncomingMessage } from 'node:http';

/** The six downstream transports of PROTOCOL.md section 5.3, in the order a handshake lists them. */
export type TransportName = 'sse' | 'xhr' | 'multipart' | 'iframe' | 'poll' | 'jsonp';

export const ALL_TRANSPORTS: readonly TransportName[] = ['sse', 'xhr', 'multipart', 'iframe', 'poll', 'jsonp'];

/** What hooks learn about a session. */
export interface SessionInfo {
  /** The session id the handshake issued. */
  readonly id: string;
  /** What `authenticate` returned for this session (`undefined` without that hook). */
  readonly principal: unknown;
}

/** Context of `authorizeSubscribe` and `onSubscribe`. */
export interface SubscribeContext {
  readonly session: SessionInfo;
  readonly channel: string;
  /** The upstream request that carries the message. */
  readonly req: IncomingMessage;
}

/** Context of `authorizePublish` and `onPublish`. */
export interface PublishContext {
  readonly session: SessionInfo;
  readonly channel: string;
  /** The message's data, already parsed and checked for forbidden keys. */
  readonly data: unknown;
  readonly req: IncomingMessage;
}

/** Context of `onUnsubscribe`. */
export interface UnsubscribeContext {
  readonly session: SessionInfo;
  readonly channel: string;
  /** The upstream request, or `undefined` when the session's end removed the subscription. */
  readonly req: IncomingMessage | undefined;
  /** `'unsubscribe'`: the client asked; `'session-close'`: the session expired or the server closed. */
  readonly reason: 'unsubscribe' | 'session-close';
}

/** Context of `onSessionOpen`. */
export interface SessionOpenContext {
  readonly session: SessionInfo;
  /** The handshake request. */
  readonly req: IncomingMessage;
}

/** Context of `onSessionClose`. */
export interface SessionCloseContext {
  readonly session: SessionInfo;
  /** `'expired'`: no downstream request for `sessionTimeoutMs`; `'shutdown'`: `close()` was called. */
  readonly reason: 'expired' | 'shutdown';
  /** The channels the session was subscribed to when it ended. */
  readonly subscriptions: readonly string[];
}

export type Awaitable<T> = T | Promise<T>;

/**
 * What `authenticate` is told about the handshake besides its request (PROTOCOL.md section 10).
 */
export interface HandshakeInfo {
  /**
   * `'script'`: asked for as JSONP (a `callback` parameter), so any page that includes it by a
   * script element runs the answer; `'fetch'`: answered as JSON, which only the endpoint's own
   * origin, or a page CORS allows, can read.
   */
  readonly via: 'script' | 'fetch';
  /** The asking page's origin as the request says it (Origin, else Referer); undefined when it does not. */
  readonly pageOrigin: string | undefined;
  /**
   * How the server knows the page may act for the user: `'same-origin'` (the endpoint's public
   * origin), `'allowed-origin'` (listed in allowedOrigins), or `undefined`: not proven.
   */
  readonly proof: 'same-origin' | 'allowed-origin' | undefined;
  /**
   * Whether the request's credentials reached this hook. `false` when the answer could reach a
   * page that is not proven (a script handshake, or a CORS one under `allowedOrigins: '*'`): the
   * server removed `Cookie` and `Authorization` from `req` first, so a hook that reads them sees
   * an anonymous visitor. A hook that trusts anything else the browser attaches by itself (a
   * client certificate, the remote address) must refuse, or stay anonymous, when this is false.
   */
  readonly credentials: boolean;
}

export interface CometServerOptions {
  /**
   * URL path prefix the endpoint answers under; everything else gets `404 not-found`.
   * Change it to mount the endpoint beside other routes of an existing server.
   * @default '/comet'
   */
  path?: string;
  /**
   * An idle streaming response gets an `hb` frame at least this often (PROTOCOL.md section 7).
   * Lower it behind proxies that cut idle connections sooner than 30 s.
   * @default 15000
   */
  heartbeatMs?: number;
  /**
   * An idle `iframe` stream gets its `hb` frame at least this often instead (when shorter than
   * heartbeatMs), and says so in its `open` frame. Chromium and Firefox report no event when a
   * forever frame's connection is cut, so the client finds the cut only by the silence: 2 × this.
   * @default 2000
   */
  frameHeartbeatMs?: number;
  /**
   * Longest a `poll`/`jsonp` request is held without data before it is answered `[]`.
   * Keep it below the idle timeout of every proxy in front of the server.
   * @default 25000
   */
  holdMs?: number;
  /**
   * Floor for client reconnect delays after an error; also the `retry:` of SSE and the `retryMs`
   * of `shutdown`, `rate-limited` and `too-many-sessions`. Raise it to shed load after restarts.
   * @default 1000
   */
  retryMs?: number;
  /**
   * A streaming response is recycled (`close` `recycle`) once it has written this many bytes,
   * prelude included, so browsers do not keep an ever-growing response text in memory.
   * Raise it for high-volume streams where reconnects cost more than memory.
   * @default 131072
   */
  maxStreamBytes?: number;
  /**
   * Page origins allowed to use the endpoint from another origin (CORS with credentials, and
   * `postMessage` targets of the cross-origin `iframe`), for example `['https://app.example.com']`.
   * `'*'` allows any origin without credentials. Same-origin pages need no entry.
   * @default [] (same-origin only)
   */
  allowedOrigins?: readonly string[] | '*';
  /**
   * The origin pages reach this endpoint at (or several), for example `'https://push.example.com'`.
   * Same-origin requests are then recognised by this exact origin (scheme, host and port) instead
   * of the Host header. Set it when a proxy in front does not pass the browser's Host through.
   * @default undefined (the Host header says it, or the forwarding headers with trustForwarded)
   */
  publicOrigin?: string | readonly string[];
  /**
   * Takes this endpoint's public host and scheme from the `Forwarded` header (its last element,
   * written by the proxy nearest to the server), else from `X-Forwarded-Host` and
   * `X-Forwarded-Proto` (their last values), instead of the Host header. Turn it on only behind a
   * proxy that sets them. Ignored when publicOrigin is set.
   * @default false
   */
  trustForwarded?: boolean;
  /**
   * A session with no open downstream request for this long is dropped with its buffer.
   * Raise it to let clients resume after longer outages, at the cost of memory.
   * @default 60000
   */
  sessionTimeoutMs?: number;
  /**
   * Most sessions held at once; a handshake beyond it gets `503 too-many-sessions`.
   * Size it to the memory of the host: each session may hold up to `bufferMaxBytes`.
   * @default 50000
   */
  maxSessions?: number;
  /**
   * Resume buffer bound, in messages, per session (PROTOCOL.md section 8.4).
   * Raise it when clients must survive long disconnects on busy channels without a `gap`.
   * @default 1000
   */
  bufferMaxMessages?: number;
  /**
   * Resume buffer bound, in bytes of serialised frames, per session. The newest message is always
   * kept even when it alone exceeds the bound. Lower it on hosts with many sessions.
   * @default 1048576
   */
  bufferMaxBytes?: number;
  /**
   * Largest upstream body accepted; beyond it the request is answered `413 body-too-large`.
   * Raise it together with `maxMessageBytes` for applications that publish large messages.
   * @default 65536
   */
  maxBodyBytes?: number;
  /**
   * Most messages in one upstream request (`413 batch-too-large` beyond).
   * @default 100
   */
  maxBatchMessages?: number;
  /**
   * Largest serialised `data` of one published message (`413 message-too-large` beyond).
   * @default 16384
   */
  maxMessageBytes?: number;
  /**
   * Most channels one session may subscribe to; more are refused with `too-many-channels`.
   * @default 256
   */
  maxChannelsPerSession?: number;
  /**
   * Sustained upstream rate per session, in messages per second (token bucket refill).
   * Lower it for public endpoints exposed to abusive clients.
   * @default 200
   */
  sendRatePerSecond?: number;
  /**
   * Upstream burst per session, in messages (token bucket capacity). Must be at least
   * `maxBatchMessages` (checked at creation), so that every batch a client may send can pass.
   * @default 400
   */
  sendBurst?: number;
  /**
   * The transports this server offers in its handshake; requests for others get `404 not-found`.
   * Remove one that a deployment's proxies break (for example `multipart` behind a buffering proxy).
   * @default ['sse', 'xhr', 'multipart', 'iframe', 'poll', 'jsonp']
   */
  transports?: readonly TransportName[];
  /**
   * Called at each handshake. Its result is kept as the session's `principal`. Returning `false`
   * refuses with `401 unauthorized`; throwing a {@link CometAuthError} (or any error with a
   * `status` of 401 or 403) refuses with that status. Any other error also refuses with 401 and
   * is reported to `onError`. A handshake whose answer could reach a page the server cannot prove
   * allowed (see {@link HandshakeInfo}) arrives without its `Cookie` and `Authorization` headers.
   * @default undefined (every handshake is accepted, principal `undefined`)
   */
  authenticate?: (req: IncomingMessage, handshake: HandshakeInfo) => unknown;
  /**
   * Decides whether a session may subscribe to a channel. `false` (or an error) refuses the
   * message with `forbidden` in the ack's `errors`.
   * @default undefined (every subscription is allowed)
   */
  authorizeSubscribe?: (ctx: SubscribeContext) => Awaitable<boolean>;
  /**
   * Decides whether a session may publish to a channel. `false` (or an error) refuses the
   * message with `forbidden` in the ack's `errors`.
   * @default undefined (every publish is allowed)
   */
  authorizePublish?: (ctx: PublishContext) => Awaitable<boolean>;
  /**
   * Receives every authorised client publish, in order per session (it is awaited). When given it
   * replaces the default, which broadcasts the message to the channel's subscribers, sender
   * included; call `server.publish` from it to route, transform or persist first.
   * @default undefined (broadcast to the channel)
   */
  onPublish?: (ctx: PublishContext) => Awaitable<void>;
  /**
   * Observer: a session subscribed to a channel (not called for a repeated subscribe). Presence
   * lists and history replays start here.
   * @default undefined (nothing observes)
   */
  onSubscribe?: (ctx: SubscribeContext) => Awaitable<void>;
  /**
   * Observer: a session left a channel, by request or because the session ended.
   * @default undefined (nothing observes)
   */
  onUnsubscribe?: (ctx: UnsubscribeContext) => Awaitable<void>;
  /**
   * Observer: a handshake created a session.
   * @default undefined (nothing observes)
   */
  onSessionOpen?: (ctx: SessionOpenContext) => Awaitable<void>;
  /**
   * Observer: a session ended (after `onUnsubscribe` for each of its channels).
   * @default undefined (nothing observes)
   */
  onSessionClose?: (ctx: SessionCloseContext) => Awaitable<void>;
  /**
   * Receives errors thrown by the application's hooks, which never reach the client as a 500, and
   * configuration problems the server finds at run time (`where` is `'origin'` for a refused
   * Origin that looks like a proxy rewriting Host: reported once, with the fix).
   * @default logs to `console.error`
   */
  onError?: (error: unknown, where: string) => void;
}

type HookNames =
  | 'authenticate' | 'authorizeSubscribe' | 'authorizePublish' | 'onPublish' | 'onSubscribe'
  | 'onUnsubscribe' | 'onSessionOpen' | 'onSessionClose';

/** Options with every default applied, as the server's modules read them. */
export type ResolvedOptions = Required<Omit<CometServerOptions, HookNames | 'allowedOrigins' | 'transports' | 'publicOrigin'>> &
  Pick<CometServerOptions, HookNames> & {
    /** Lower-cased allowed origins, or `'*'`. */
    readonly allowedOrigins: ReadonlySet<string> | '*';
    /** Serialised public origins, or undefined: judged from each request. */
    readonly publicOrigins: ReadonlySet<string> | undefined;
    readonly transports: readonly TransportName[];
  };

const NUMERIC_DEFAULTS = {
  heartbeatMs: 15000,
  frameHeartbeatMs: 2000,
  holdMs: 25000,
  retryMs: 1000,
  maxStreamBytes: 131072,
  sessionTimeoutMs: 60000,
  maxSessions: 50000,
  bufferMaxMessages: 1000,
  bufferMaxBytes: 1048576,
  maxBodyBytes: 65536,
  maxBatchMessages: 100,
  maxMessageBytes: 16384,
  maxChannelsPerSession: 256,
  sendRatePerSecond: 200,
  sendBurst: 400,
} as const;

type NumericOption = keyof typeof NUMERIC_DEFAULTS;

// Same form the iframe `origin` parameter must have (PROTOCOL.md section 5.3, `iframe`).
const ORIGIN_FORM = /^https?:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?$/;

/** Applies defaults and rejects impossible values early, at construction rather than per request. */
export function resolveOptions(options: CometServerOptions = {}): ResolvedOptions {
  const numbers = {} as Record<NumericOption, number>;
  for (const name of Object.keys(NUMERIC_DEFAULTS) as NumericOption[]) {
    const value = options[name] ?? NUMERIC_DEFAULTS[name];
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new TypeError(`cometkit: option ${name} must be a positive integer`);
    }
    numbers[name] = value;
  }
  // A batch the client may send (maxBatchMessages) must fit the bucket, or it could never pass.
  if (numbers.sendBurst < numbers.maxBatchMessages) {
    throw new TypeError('cometkit: option sendBurst must be at least maxBatchMessages');
  }
  return {
    ...numbers,
    path: resolvePath(options.path ?? '/comet'),
    allowedOrigins: resolveOrigins(options.allowedOrigins ?? []),
    publicOrigins: resolvePublicOrigins(options.publicOrigin),
    trustForwarded: options.trustForwarded === true,
    transports: resolveTransports(options.transports ?? ALL_TRANSPORTS),
    onError: options.onError ?? defaultOnError,
    authenticate: options.authenticate,
    authorizeSubscribe: options.authorizeSubscribe,
    authorizePublish: options.authorizePublish,
    onPublish: options.onPublish,
    onSubscribe: options.onSubscribe,
    onUnsubscribe: options.onUnsubscribe,
    onSessionOpen: options.onSessionOpen,
    onSessionClose: options.onSessionClose,
  };
}

function resolvePath(path: string): string {
  if (!path.startsWith('/') || /[?#\s]/.test(path)) {
    throw new TypeError('cometkit: option path must start with "/" and hold no query, fragment or space');
  }
  // Stored without a trailing slash so that resources are always `${path}/${resource}`.
  return path.replace(/\/+$/, '');
}

function resolveOrigins(origins: readonly string[] | '*'): ReadonlySet<string> | '*' {
  if (origins === '*') return '*';
  const resolved = new Set<string>();
  for (const origin of origins) {
    const normalised = origin.replace(/\/$/, '').toLowerCase();
    if (!ORIGIN_FORM.test(normalised)) {
      throw new TypeError('cometkit: allowedOrigins entries must look like https://host[:port]');
    }
    resolved.add(normalised);
  }
  return resolved;
}

function resolvePublicOrigins(origins: string | readonly string[] | undefined): ReadonlySet<string> | undefined {
  if (origins === undefined) return undefined;
  const list = typeof origins === 'string' ? [origins] : origins;
  if (list.length === 0) return undefined;
  // Serialised as a browser sends Origin: lower case, default port left out.
  return new Set(list.map((origin) => {
    const normalised = origin.replace(/\/$/, '').toLowerCase();
    if (!ORIGIN_FORM.test(normalised)) throw new TypeError('cometkit: publicOrigin entries must look like https://host[:port]');
    return new URL(normalised).origin;
  }));
}

function resolveTransports(transports: readonly TransportName[]): readonly TransportName[] {
  for (const name of transports) {
    if (!ALL_TRANSPORTS.includes(name)) throw new TypeError('cometkit: unknown transport in option transports');
  }
  // Keep the canonical order whatever order the caller used.
  return ALL_TRANSPORTS.filter((name) => transports.includes(name));
}

function defaultOnError(error: unknown, where: string): void {
  // A configuration report is one line with its fix; a stack would only bury it.
  if (where === 'origin' && error instanceof Error) console.error(`[cometkit] ${error.message}`);
  else console.error(`[cometkit] ${where}:`, error);
}
