// The public client, without transports: `CometClientCore` takes transport objects, so an
// application that imports it with one transport carries no other. `CometClient` (client.ts) adds
// the six built-in transports by name. A client opens its own connection, or with
// `connect: sharedConnections` (pool.ts) shares one per endpoint with the other clients of the page.
import { createConnection, type Client, type CometEvents, type CometState, type MessageHandler, type Subscription } from './connection.ts';
import { createEmitter } from './emitter.ts';
import { listenerError } from './errors.ts';
import type { CometClientCoreOptions } from './types.ts';
import type { TransportName } from '../transports/contract.ts';

export type { CometClientCoreOptions, CometEvents, MessageHandler, MessageInfo, Subscription } from './types.ts';

export class CometClientCore implements Client {
  // The members are those of the connection the constructor opens (connection.ts, pool.ts): the
  // client is that connection's handle, with this class's prototype, so nothing forwards calls.
  declare readonly state: CometState;
  declare readonly transport: TransportName | null;
  /** With a shared connection (`connect`): whether this tab runs it, or goes through another tab's. */
  declare readonly leader?: boolean;
  declare readonly subscribe: <Data = unknown>(channel: string, handler: MessageHandler<Data>) => Subscription;
  declare readonly publish: (channel: string, data: unknown) => Promise<void>;
  declare readonly on: Client['on'];
  declare readonly off: Client['off'];
  declare readonly close: () => void;

  /**
   * @param url the endpoint, for example `https://push.example.com/comet`.
   */
  constructor(url: string, options: CometClientCoreOptions) {
    const logger = options.logger ?? (() => undefined);
    // A listener that throws is logged and reported as the client's `error` event (an `error`
    // listener that throws is only logged: reporting it as an error would loop).
    const events = createEmitter<CometEvents>((error, type) => {
      logger('listener threw', error);
      if (type != 'error') events.emit('error', listenerError(error));
    });
    const connection = (options.connect ?? createConnection)(url.replace(/\/+$/, ''), { ...options, platform: options.platform ?? globalThis, logger }, events);
    return Object.setPrototypeOf(connection, new.target.prototype) as CometClientCore;
  }
}
