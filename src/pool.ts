// One connection per endpoint on a page (`sharedConnections`, what `CometClient` uses): every client
// pointed at the same endpoint joins the same connection, so at most two requests are in flight to
// it however many clients there are. The connection multiplexes their subscriptions (reference-
// counted per channel) and tells each of them every event. A client that leaves takes its handlers
// and its pending publishes with it; the last one closes the connection, and a client that joins a
// closed one (refused, gave up, or left by all) opens a new one. The first client's options configure it.
import { createConnection, type ClientEvents, type Connection, type ConnectionFactory, type MessageHandler } from './connection.ts';
import { invoke } from './emitter.ts';
import { closedError, listenerError, type CometError } from './errors.ts';
import type { Platform } from './platform.ts';
import { announce } from './reconnect.ts';

/** A connection, and the events of the clients on it. */
interface Shared {
  connection: Connection;
  clients: Set<ClientEvents>;
}

/**
 * The page pool over connections that `open` makes: `createConnection` for `sharedConnections`,
 * or the cross-tab share of one (crosstab.ts) for `CometClient`.
 */
export const pooled = (open: ConnectionFactory): ConnectionFactory => {
  /** Per platform (a page has one; tests make many), endpoint URL to its shared connection. */
  const pools = new WeakMap<Platform, Map<string, Shared>>();
  return (endpoint, options, events) => {
    const { platform } = options;
    const pool = pools.get(platform) ?? new Map<string, Shared>();
    pools.set(platform, pool);
    let shared = pool.get(endpoint);
    if (!shared || shared.connection.state == 'closed') {
      const clients = new Set<ClientEvents>();
      // The connection only emits, to every client on it; each client is listened to on its own
      // events, so the connection's `on` and `off` are never used.
      const fanOut = { emit: (type, payload) => { for (const client of [...clients]) client.emit(type, payload); } } as Pick<ClientEvents, 'emit'>;
      pool.set(endpoint, shared = { connection: open(endpoint, options, fanOut as ClientEvents), clients });
    }
    const { connection, clients } = shared;
    clients.add(events);
    let left = false;
    /** What leaving undoes: this client's subscriptions, and the rejections of its publishes not yet settled. */
    const undo = new Set<(error: CometError) => void>();
    return {
      get state() {
        return left ? 'closed' : connection.state;
      },
      get transport() {
        return left ? null : connection.transport;
      },
      // Whether this page runs the connection: false only for a follower of another tab's (crosstab.ts).
      get leader() {
        return !left && connection.leader != false;
      },
      subscribe<Data>(channel: string, handler: MessageHandler<Data>) {
        // A handler that throws is reported to its own client only.
        const subscription = left ? undefined : connection.subscribe<Data>(channel, (data, message) => {
          invoke(handler, (error) => { events.emit('error', listenerError(error)); }, data, message);
        });
        const unsubscribe = () => {
          if (undo.delete(unsubscribe)) subscription?.unsubscribe();
        };
        undo.add(unsubscribe);
        return { unsubscribe };
      },
      publish: (channel, data) => left ? Promise.reject(closedError()) : new Promise((resolve, reject) => {
        undo.add(reject);
        void connection.publish(channel, data).then(resolve, reject).then(() => undo.delete(reject));
      }),
      on: events.on,
      off: events.off,
      close() {
        if (left) return;
        left = true;
        clients.delete(events);
        // The last client closes the connection, without unsubscribing first.
        if (!clients.size) connection.close();
        for (const each of undo) each(closedError());
        // This client's share is closed, whatever the connection's state.
        announce(events.emit, 'closed', 'client-close');
      },
    };
  };
};

export const sharedConnections: ConnectionFactory = /* @__PURE__ */ pooled(createConnection);
