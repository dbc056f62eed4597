// The Bayeux connection types, as cometkit Transports the negotiator chooses among: `resource` is
// the Bayeux connection type, matched against the handshake's `supportedConnectionTypes`. They
// only move messages: a request of a JSON message array answered by one (long-polling as a JSON
// POST, callback-polling as a `<script>` GET), or Faye's EventSource stream. The meaning of the
// messages belongs to session.ts.
import { fail, type OneShot, type Transport, type TransportExchange, type TransportListener, type TransportRequest } from '../../transports/contract.ts';
import { fetchJson, polls } from '../../transports/request.ts';
import { scriptJson } from '../../transports/script.ts';
import { malformed } from '../../transports/shared.ts';
import type { Platform } from '../platform.ts';

export interface BayeuxRequest extends TransportRequest {
  /** The messages, a JSON array. */
  readonly messages: string;
  /** Gives up after this long, like a network error. */
  readonly timeoutMs: number;
}

export interface BayeuxListener extends TransportListener {
  /** A stream (eventsource) is established: the server now delivers to it. */
  onOpen?(): void;
}

export interface BayeuxTransport extends Transport {
  /**
   * Polling transports: one request of `request.messages`, whose answer (a message array) goes to
   * `onValues` before `onEnd`. The stream (eventsource): opens `request.url` and delivers each
   * event's messages; its requests go by `exchange`.
   */
  open(platform: Platform, request: BayeuxRequest, listener: BayeuxListener): TransportExchange;
  /** One request of messages answered by messages: the handshake, connects and the others. */
  readonly exchange: OneShot<BayeuxRequest>;
  /** The characters a request's encoded messages may take in `url`, when they travel in the URL. */
  room?(url: string): number;
}

/** Browsers and proxies all accept URLs under 2,000 characters; CometD's `maxURILength` is 2000 too. */
export const MAX_URL_LENGTH = 2000;

export const isBayeuxTransport = (transport: Transport): transport is BayeuxTransport => 'exchange' in transport;

/**
 * [Bayeux §4.1] long-polling: a POST of the message array as `application/json`, the type both
 * Faye (which reads any other type as a form) and CometD accept. Cross-origin it needs CORS with a
 * preflight, which Faye answers itself.
 */
export const postJson: OneShot<BayeuxRequest> = (platform, { url, messages, withCredentials, headers, timeoutMs }, done) =>
  fetchJson(platform, { url, body: messages, withCredentials, headers: { 'Content-Type': 'application/json;charset=UTF-8', ...headers }, timeoutMs }, done);

/**
 * [Bayeux §4.2] callback-polling: a `<script>` GET of `?jsonp=NAME&message=[...]`, whose body calls
 * NAME with the reply array. Works across origins without CORS. A script that fails to load is a
 * `network` failure (its status cannot be seen); one that loads without calling back is `malformed`.
 */
export const scriptGet: OneShot<BayeuxRequest> = (platform, { url, messages, timeoutMs }, done) =>
  scriptJson(platform, { url, timeoutMs, query: (name) => ({ jsonp: name, message: messages }) }, done);

/** What a polling connection type is made of; `resource` is its Bayeux connection type. */
type PollingOptions = Pick<BayeuxTransport, 'name' | 'resource' | 'isSupported' | 'exchange' | 'room'>;

/** A polling connection type: each `open` is one exchange, its reply array delivered, then the end. */
const polling = (transport: PollingOptions): BayeuxTransport => ({
  ...transport,
  streaming: false,
  // A reply is an array of messages; a single message is read as one.
  open: polls(transport.exchange, (value) => Array.isArray(value) ? value as unknown[] : [value]),
});

/** Bayeux `long-polling` (CometD, Faye): JSON POSTs; named `long-polling` in cometkit's events. */
export const bayeuxLongPolling: BayeuxTransport = /*#__PURE__*/ polling({
  name: 'long-polling',
  resource: 'long-polling',
  isSupported: (platform) => !!platform.fetch,
  exchange: postJson,
});

/**
 * Bayeux `callback-polling` (Faye; CometD's Java server): script GETs, named `jsonp` in cometkit's
 * events. Every message goes this way once it is chosen, split to keep each URL under 2,000 characters.
 */
export const bayeuxCallbackPolling: BayeuxTransport = /*#__PURE__*/ polling({
  name: 'jsonp',
  resource: 'callback-polling',
  isSupported: (platform) => !!platform.document && !!platform.window,
  exchange: scriptGet,
  // 60: room for `&message=`, `&jsonp=NAME` and the encoding's slack.
  room: (url) => MAX_URL_LENGTH - url.length - 60,
});

/**
 * Faye's `eventsource` connection type: an EventSource at `<endpoint>/<clientId>` carries the
 * messages (each event a JSON array), while the handshake, the connects (answered at once, then
 * repeated after the advised `interval` to keep the session alive) and the other messages go as
 * JSON POSTs. Faye answers the stream without CORS headers, so it works same-origin only.
 */
export const bayeuxEventSource: BayeuxTransport = {
  name: 'eventsource',
  resource: 'eventsource',
  streaming: true,
  isSupported: (platform) => !!platform.EventSource && !!platform.fetch,
  exchange: postJson,
  open(platform, { url, withCredentials }, listener) {
    const source = new (platform as Required<Platform>).EventSource(url, { withCredentials });
    // Unhooked first: nothing a closed source still has queued reaches the listener.
    const close = () => {
      source.onopen = source.onmessage = source.onerror = null;
      source.close();
    };
    source.onopen = () => listener.onOpen?.();
    source.onmessage = (event: MessageEvent<string>) => {
      let value: unknown;
      try {
        value = JSON.parse(event.data);
      } catch {
        close();
        return listener.onEnd(malformed());
      }
      listener.onValues(Array.isArray(value) ? value as unknown[] : [value]);
    };
    // EventSource's own reconnect is switched off: the session decides when to open it again.
    source.onerror = () => {
      close();
      listener.onEnd(fail('network', 'interrupted'));
    };
    return { close };
  },
};
