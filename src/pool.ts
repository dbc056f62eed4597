// One connection per endpoint on a page (`sharedConnections`, what `CometClient` uses): every client
// pointed at the same endpoint joins the same connection, so at most two requests are in flight to
// it however many clients there are. The connection multiplexes their subscriptions (reference-
// counted per channel) and tells each of them every event. A client that leaves takes its handlers
// and its pending publishes with it; the last one closes the connection, and a client that joins a
// closed one (refused, gave up, or left by all) opens a new one. The first client's options configure it.
import { createConnection, type ClientEvents, type Connection, type ConnectionFactory, type MessageHandler, type Subscription } from './connection.ts';
import { createEmitter, invoke, type Emitter } from './emitter.ts';
import { closedError, listenerError, type CometError } from './errors.ts';
import type { ConnectionEvents } from './types.ts';
import type { Platform } from './platform.ts';

interface Shared {
  connection: Connection;
  /** The events of the clients on it. */
  clients: Set<ClientEvents>;
}

/** Per connection factory and platform (a page has one; tests make many), endpoint URL to its shared connection. */
const pools = new WeakMap<ConnectionFactory, WeakMap<Platform, Map<string, Shared>>>();

/** `sharedConnections` over another connection factory (cometkit/bayeux shares its sessions so). */
export const sharing = (open: ConnectionFactory): ConnectionFactory => (endpoint, options, events) => {
  const { platform } = options;
  const platforms = pools.get(open) ?? new WeakMap<Platform, Map<string, Shared>>();
  pools.set(open, platforms);
  const pool = platforms.get(platform) ?? new Map<string, Shared>();
  platforms.set(platform, pool);
  let shared = pool.get(endpoint);
  if (!shared || shared.connection.state == 'closed') {
    const clients = new Set<ClientEvents>();
    // The connection's own listeners are never used: it tells every client on it instead.
    const fanOut: Emitter<ConnectionEvents> = createEmitter(() => undefined);
    fanOut.emit = (type, payload) => {
      for (const client of [...clients]) client.emit(type, payload);
    };
    shared = { clients, connection: open(endpoint, options, fanOut) };
    pool.set(endpoint, shared);
  }
  const { connection, clients } = shared;
  clients.add(events);
  let left = false;
  /** This client's subscriptions, and the rejections of its publishes not yet settled. */
  const mine = new Set<Subscription>();
  const pending = new Set<(error: CometError) => void>();
  return {
    get state() {
      return left ? 'closed' : connection.state;
    },
    get transport() {
      return left ? null : connection.transport;
    },
    subscribe<Data>(channel: string, handler: MessageHandler<Data>) {
      // A handler that throws is reported to its own client only.
      const subscription = left ? undefined : connection.subscribe<Data>(channel, (data, message) => {
        invoke(handler, (error) => { events.emit('error', listenerError(error)); }, data, message);
      });
      if (subscription) mine.add(subscription);
      return {
        unsubscribe() {
          if (subscription && mine.delete(subscription)) subscription.unsubscribe();
        },
      };
    },
    publish: (channel, data) => left ? Promise.reject(closedError()) : new Promise((resolve, reject) => {
      pending.add(reject);
      void connection.publish(channel, data).then(resolve, reject).then(() => pending.delete(reject));
    }),
    on: events.on,
    off: events.off,
    close() {
      if (left) return;
      left = true;
      clients.delete(events);
      // The last client closes the connection, without unsubscribing first.
      if (!clients.size) connection.close();
      for (const subscription of mine) subscription.unsubscribe();
      for (const reject of pending) reject(closedError());
      events.emit('statechange', { state: 'closed', reason: 'client-close' });
      events.emit('close', { reason: 'client-close' });
    },
  };
};

export const sharedConnections: ConnectionFactory = /*#__PURE__*/ sharing(createConnection);
