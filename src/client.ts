// `CometClient`: the core with the six built-in transports, chosen by name, the full negotiator
// (memory per origin, reprobes), batched sends, the page's lifecycle events and one connection per
// endpoint for all clients of the page, shared with the other tabs of the origin (crosstab.ts).
import { batchMessages } from './batching.ts';
import { CometClientCore, type CometClientCoreOptions } from './core.ts';
import { pageLifecycle } from './lifecycle.ts';
import { createNegotiator } from './negotiator.ts';
import { createConnection } from './connection.ts';
import { acrossTabs } from './crosstab.ts';
import { pooled, sharedConnections } from './pool.ts';
import { eventsource } from '../transports/eventsource.ts';
import { iframe } from '../transports/iframe.ts';
import { jsonp } from '../transports/jsonp.ts';
import { longPolling } from '../transports/long-polling.ts';
import { multipart } from '../transports/multipart.ts';
import { xhrStreaming } from '../transports/xhr-streaming.ts';
import type { Transport, TransportName } from '../transports/contract.ts';

const builtIn: readonly Transport[] = [eventsource, xhrStreaming, multipart, iframe, longPolling, jsonp];
/** The page pool over the cross-tab share: one connection per endpoint per browser. */
const sharedAcrossTabs = /* @__PURE__ */ pooled(/* @__PURE__ */ acrossTabs(createConnection));

export interface CometClientOptions extends Omit<CometClientCoreOptions, 'transports' | 'negotiator' | 'connect' | 'batching' | 'lifecycle'> {
  /**
   * The transports to use, by name, in order of preference. Those the server does not offer or the
   * engine cannot run are skipped; the first that proves itself is used. Leave out a transport
   * your network is known to break; keep `long-polling` or `jsonp` last as the fallback.
   * @default ['eventsource', 'xhr-streaming', 'multipart', 'iframe', 'long-polling', 'jsonp']
   */
  transports?: readonly TransportName[];
  /**
   * Share one connection per endpoint with every tab and frame of this origin (crosstab.ts): one
   * page, the leader, holds it and the others go through it; `client.leader` says which this is.
   * Where Web Locks or BroadcastChannel is missing, each page connects by itself. `false`: one
   * connection per page (still shared by the clients of the page).
   * @default true
   */
  shareAcrossTabs?: boolean;
}

export class CometClient extends CometClientCore {
  constructor(url: string, options: CometClientOptions = {}) {
    const names = options.transports;
    super(url, {
      ...options,
      transports: names ? ([] as Transport[]).concat(...[...new Set(names)].map((name) => builtIn.filter((transport) => transport.name == name))) : builtIn,
      negotiator: createNegotiator,
      batching: batchMessages,
      lifecycle: pageLifecycle,
      connect: options.shareAcrossTabs == false ? sharedConnections : sharedAcrossTabs,
    });
  }
}
