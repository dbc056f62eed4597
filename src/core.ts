// The public client, without transports: `CometClientCore` takes transport objects, so an
// application that imports it with one transport carries no other. `CometClient` (client.ts) adds
// the six built-in transports by name.
import type { CometState, ConnectionEvents, ConnectionOptions, ReconnectPolicy } from './connection.ts';
import { createEmitter, type Emitter, type Listener } from './emitter.ts';
import { closedError, type CometError } from './errors.ts';
import { join, listenerError, type Member, type MessageHandler } from './host-pool.ts';
import { inOrder, type NegotiatorFactory } from './negotiator.ts';
import { browserPlatform, type Platform } from './platform.ts';
import { xhrJson } from '../transports/request.ts';
import type { Transport, TransportName } from '../transports/types.ts';

/** The events of a client and what each listener receives. */
export type CometEvents = ConnectionEvents;

export interface Subscription {
  /** Stops delivery to this handler; the last handler of a channel unsubscribes from the server. */
  unsubscribe(): void;
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
   * When and how long to reconnect after a failure: delays grow from `initialDelayMs` to
   * `maxDelayMs` with full jitter, above the server's `retryMs`. The client closes (reason
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
   * Send cookies with cross-origin requests (XHR and EventSource; script transports always do).
   * @default false
   */
  withCredentials?: boolean;
  /**
   * Extra request headers, sent by the XHR-based transports, the handshake and upstream sends.
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
   * Timers, clock, randomness and the browser objects the client uses. Inject one in tests.
   * @default browserPlatform()
   */
  platform?: Platform;
}

export class CometClientCore {
  private readonly _events: Emitter<CometEvents>;
  private _member: Member | undefined;
  /** The rejections of this client's publishes not yet settled, for close(). */
  private readonly _pending = new Set<(error: CometError) => void>();

  /**
   * @param url the endpoint, for example `https://push.example.com/comet`. Clients of one page
   *   with the same endpoint share one connection; the first one's options configure it.
   */
  constructor(url: string, options: CometClientCoreOptions) {
    const logger = options.logger ?? (() => undefined);
    const events = this._events = createEmitter<CometEvents>((error, type) => {
      logger('listener threw', error);
      // An error listener that throws is only logged: reporting it as an error would loop.
      if (type != 'error') events.emit('error', listenerError(error));
    });
    const resolved: ConnectionOptions = {
      probeTimeoutMs: 5000,
      reprobeMs: 60000,
      heartbeatToleranceFactor: 2,
      heartbeatToleranceMs: undefined,
      withCredentials: false,
      headers: {},
      sendTimeoutMs: 15000,
      negotiator: inOrder,
      ...options,
      platform: options.platform ?? browserPlatform(),
      reconnect: { initialDelayMs: 1000, maxDelayMs: 30000, maxAttempts: Infinity, maxElapsedMs: Infinity, ...options.reconnect },
      logger,
    };
    // A script transport (jsonp, iframe) brings the script-tag requests; without one, none are bundled.
    const scriptJson = options.transports.find((transport) => transport.script)?.script;
    this._member = join(url, resolved, { xhrJson, scriptJson }, events.emit);
  }

  /** `'connecting'`, `'open'`, `'reconnecting'` or `'closed'`. */
  get state(): CometState {
    return this._member?.connection.state ?? 'closed';
  }

  /** The downstream transport in use (or being tried), `null` before the first handshake and once closed. */
  get transport(): TransportName | null {
    return this._member?.connection.transport ?? null;
  }

  /** Calls `handler` with each message published on `channel`, once each and in order. */
  subscribe<Data = unknown>(channel: string, handler: MessageHandler<Data>): Subscription {
    return { unsubscribe: this._member?.subscribe(channel, handler as MessageHandler) ?? (() => undefined) };
  }

  /**
   * Publishes `data` (any JSON value) on `channel`. Resolves once the server acknowledged it;
   * rejects with a `CometError`: `publish-refused` (with the server's `code`) or `closed` when the
   * client closed first (the message may then still have been delivered).
   */
  publish(channel: string, data: unknown): Promise<void> {
    return new Promise((resolve, reject) => {
      const member = this._member;
      if (!member) throw closedError();
      const pending = this._pending;
      pending.add(reject);
      void member.connection.send('publish', channel, data).then(resolve, reject).then(() => pending.delete(reject));
    });
  }

  on<Type extends keyof CometEvents>(type: Type, listener: Listener<CometEvents[Type]>): void {
    this._events.on(type, listener);
  }

  off<Type extends keyof CometEvents>(type: Type, listener: Listener<CometEvents[Type]>): void {
    this._events.off(type, listener);
  }

  /** Closes the client: its subscriptions end, its pending publishes reject with `closed`. */
  close(): void {
    const member = this._member;
    if (!member) return;
    this._member = undefined;
    member.leave();
    for (const reject of this._pending) reject(closedError());
    this._events.emit('statechange', { state: 'closed', reason: 'client-close' });
    this._events.emit('close', { reason: 'client-close' });
  }
}
