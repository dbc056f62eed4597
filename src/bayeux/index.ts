// The `cometkit/bayeux` entry: cometkit as the client of CometD and Faye servers (the Bayeux
// protocol). `BayeuxClient` has the API of `CometClient`; `bayeux` is the connection factory for
// `CometClientCore` (`connect: bayeux`), with the Bayeux transports. The main entry never imports
// this one, so its bundles do not grow.
import { CometClientCore, type CometClientCoreOptions } from '../core.ts';
import { pageLifecycle } from '../lifecycle.ts';
import { createNegotiator } from '../negotiator.ts';
import { sharing } from '../pool.ts';
import type { TransportName } from '../../transports/types.ts';
import { bayeux, type BayeuxOptions } from './session.ts';
import { bayeuxCallbackPolling, bayeuxEventSource, bayeuxLongPolling, type BayeuxTransport } from './transports.ts';

export { bayeux, type BayeuxOptions } from './session.ts';
export { ackExtension, type BayeuxExtension } from './extensions.ts';
export type { Advice, BayeuxMessage } from './messages.ts';
export { bayeuxCallbackPolling, bayeuxEventSource, bayeuxLongPolling, type BayeuxTransport, type BayeuxRequest } from './transports.ts';

/** One Bayeux session per endpoint for all the `BayeuxClient`s of a page. */
export const sharedBayeux = /*#__PURE__*/ sharing(bayeux);

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
export class BayeuxClient extends CometClientCore {
  /**
   * @param url the Bayeux endpoint, for example `https://push.example.com/cometd` or `/faye`.
   */
  constructor(url: string, options: BayeuxClientOptions = {}) {
    const names = options.transports;
    super(url, {
      lifecycle: pageLifecycle,
      ...options,
      transports: names ? builtIn.filter((transport) => names.includes(transport.name as 'jsonp')).sort((a, b) => names.indexOf(a.name as 'jsonp') - names.indexOf(b.name as 'jsonp')) : builtIn,
      negotiator: createNegotiator,
      connect: sharedBayeux,
    });
  }
}
