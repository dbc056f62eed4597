// One connection per endpoint on a page: every client pointed at the same endpoint joins the same
// connection (so at most two requests are in flight to it, however many clients there are). The
// clients' subscriptions are multiplexed onto it and reference-counted: the server sees one
// subscribe per channel, the last unsubscribe sends the unsubscribe, and the connection closes
// when its last client leaves. The first client's options configure the shared connection.
import { createConnection, type Connection, type ConnectionEvents, type ConnectionOptions, type OneShot } from './connection.ts';
import type { Emitter } from './emitter.ts';
import { invoke } from './emitter.ts';
import { CometError } from './errors.ts';
import type { Platform } from './platform.ts';

/** What a subscriber gets with each message's data. */
export interface MessageInfo {
  channel: string;
  seq: number;
}

export type MessageHandler<Data = unknown> = (data: Data, message: MessageInfo) => void;

/** Where a client hears its connection's events. */
export type EventSink = Emitter<ConnectionEvents>['emit'];

export interface Member {
  readonly connection: Connection;
  /** Adds a handler for a channel; returns the function that removes it. */
  subscribe(channel: string, handler: MessageHandler): () => void;
  leave(): void;
}

interface Subscriber {
  channel: string;
  handler: MessageHandler;
  sink: EventSink;
}

/** The connection of one endpoint, the clients on it, and their handlers by channel. */
interface Shared {
  connection: Connection;
  sinks: Set<EventSink>;
  channels: Map<string, Subscriber[]>;
}

/** Per platform (a page has one; tests make many), endpoint URL to shared connection. */
const pools = new WeakMap<Platform, Map<string, Shared>>();

/** A listener's exception, reported as an error event of the client that registered it. */
export const listenerError = (cause: unknown): CometError => new CometError('listener', 'a listener threw', { cause });

export function join(endpoint: string, options: ConnectionOptions, io: OneShot, sink: EventSink): Member {
  const key = endpoint.replace(/\/+$/, '');
  const { platform } = options;
  const pool = pools.get(platform) ?? new Map<string, Shared>();
  pools.set(platform, pool);
  const found = pool.get(key);
  const shared = found && found.connection.state != 'closed' ? found : open(pool, key, options, io);
  const { connection, sinks, channels } = shared;
  sinks.add(sink);
  const mine = new Set<Subscriber>();

  const send = (type: 'subscribe' | 'unsubscribe', channel: string) => {
    connection.send(type, channel).catch((error: unknown) => {
      if (!(error instanceof CometError) || error.type == 'closed') return;
      // A refused subscription is forgotten, so that a later subscribe asks again.
      if (type == 'subscribe') channels.delete(channel);
      for (const each of sinks) each('error', error);
    });
  };

  const remove = (subscriber: Subscriber) => {
    const { channel } = subscriber;
    const list = channels.get(channel);
    mine.delete(subscriber);
    if (!list?.includes(subscriber)) return;
    const rest = list.filter((each) => each != subscriber);
    if (rest.length) channels.set(channel, rest);
    else {
      channels.delete(channel);
      if (connection.state != 'closed') send('unsubscribe', channel);
    }
  };

  return {
    connection,
    subscribe(channel, handler) {
      const subscriber = { channel, handler, sink };
      const list = channels.get(channel);
      if (list) list.push(subscriber);
      else {
        channels.set(channel, [subscriber]);
        send('subscribe', channel);
      }
      mine.add(subscriber);
      return () => { remove(subscriber); };
    },
    leave() {
      sinks.delete(sink);
      if (!sinks.size) {
        if (pool.get(key) == shared) pool.delete(key);
        connection.close();
      }
      for (const subscriber of [...mine]) remove(subscriber);
    },
  };
}

function open(pool: Map<string, Shared>, key: string, options: ConnectionOptions, io: OneShot): Shared {
  const shared = { sinks: new Set(), channels: new Map() } as Shared;
  const { sinks, channels } = shared;
  pool.set(key, shared);
  shared.connection = createConnection(key, options, io, {
    emit(type, payload) {
      // A connection that closed on its own (a refused handshake, the policy gave up) is replaced
      // by the next client that joins.
      if (type == 'close' && pool.get(key) == shared) pool.delete(key);
      for (const sink of [...sinks]) sink(type, payload);
    },
    deliver({ channel, seq, data }) {
      for (const { handler, sink } of channels.get(channel)?.slice() ?? []) {
        invoke(handler, (error) => { sink('error', listenerError(error)); }, data, { channel, seq });
      }
    },
    channels: () => [...channels.keys()],
  });
  return shared;
}
