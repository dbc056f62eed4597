// The `cometkit/bayeux` entry: cometkit as the client of CometD and Faye servers (the Bayeux
// protocol). `BayeuxClient` has the API of `CometClient`; `bayeux` is the connection factory for
// `CometClientCore` (`connect: bayeux`), with the Bayeux transports. The main entry never imports
// this one, so its bundles do not grow.
import type { CometClientCoreOptions } from '../core.ts';
import { createEmitter } from '../emitter.ts';
import { listenerError } from '../errors.ts';
import { pageLifecycle } from '../lifecycle.ts';
import { createNegotiator } from '../negotiator.ts';
import { pooled } from '../pool.ts';
import type { Client, CometEvents, CometState, MessageHandler, Subscription } from '../types.ts';
import type { TransportName } from '../../transports/contract.ts';
import { bayeux, type BayeuxOptions } from './session.ts';
import { bayeuxCallbackPolling, bayeuxEventSource, bayeuxLongPolling, type BayeuxTransport } from './transports.ts';

export { bayeux, type BayeuxOptions } from './session.ts';
export { ackExtension, type BayeuxExtension } from './extensions.ts';
export type { Advice, BayeuxMessage } from './messages.ts';
export { bayeuxCallbackPolling, bayeuxEventSource, bayeuxLongPolling, type BayeuxTransport, type BayeuxRequest } from './transports.ts';

/** One Bayeux session per endpoint for all the `BayeuxClient`s of a page. */
export const sharedBayeux = /*#__PURE__*/ pooled(bayeux);

const builtIn: readonly BayeuxTransport[] = [bayeuxLongPolling, bayeuxEventSource, bayeuxCallbackPolling];

export interface BayeuxClientOptions extends Omit<CometClientCoreOptions, 'transports' | 'negotiator' | 'connect' | 'batching'>, BayeuxOptions {
  /**
   * The Bayeux connection types to use, by cometkit's names, in order of preference: `long-polling`
   * (JSON POSTs), `eventsource` (Faye's EventSource mode) and `jsonp` (callback-polling). Those the
   * server does not offer or the engine cannot run are skipped; the first that proves itself is used.
   * @default ['long-polling', 'eventsource', 'jsonp']
   */
  transports?: readonly Extract<TransportName, 'long-polling' | 'eventsource' | 'jsonp'>[];
}

/**
 * A client of a CometD or Faye server with `CometClient`'s API: `subscribe` (channel names and
 * Bayeux wildcards, `/chat/*` and `/chat/**`), `publish` (resolves on the server's reply), the
 * events `statechange`, `transport`, `gap`, `error` and `close`, `state`, `transport`, `close()`.
 * The clients of a page pointed at one endpoint share one Bayeux session.
 */
export class BayeuxClient implements Client {
  // As in CometClientCore (core.ts), whose constructor this one mirrors without importing it (that
  // would bring the native connection along): the client is its connection's handle, with this
  // class's prototype, so nothing forwards calls.
  declare readonly state: CometState;
  declare readonly transport: TransportName | null;
  declare readonly subscribe: <Data = unknown>(channel: string, handler: MessageHandler<Data>) => Subscription;
  declare readonly publish: (channel: string, data: unknown) => Promise<void>;
  declare readonly on: Client['on'];
  declare readonly off: Client['off'];
  declare readonly close: () => void;

  /**
   * @param url the Bayeux endpoint, for example `https://push.example.com/cometd` or `/faye`.
   */
  constructor(url: string, options: BayeuxClientOptions = {}) {
    const names = options.transports;
    const logger = options.logger ?? (() => undefined);
    // A listener that throws is logged and reported as an `error` event (one of `error` only logged).
    const events = createEmitter<CometEvents>((error, type) => {
      logger('listener threw', error);
      if (type != 'error') events.emit('error', listenerError(error));
    });
    const connection = sharedBayeux(url.replace(/\/+$/, ''), {
      lifecycle: pageLifecycle,
      ...options,
      transports: names ? names.flatMap((name) => builtIn.filter((transport) => transport.name == name)) : builtIn,
      negotiator: createNegotiator,
      platform: options.platform ?? globalThis,
      logger,
    }, events);
    return Object.setPrototypeOf(connection, new.target.prototype) as BayeuxClient;
  }
}
