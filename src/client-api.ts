// The API a connection gives the clients on it (`Client`), the same for both protocols
// (connection.ts, bayeux/session.ts): its state and transport, subscriptions reference-counted per
// channel, publishes settled by the server's answer, events and close(). A subscribe the server
// refuses is forgotten, so that a later subscribe asks again.
import { addSubscriber } from './channels.ts';
import { closedError, type CometError } from './errors.ts';
import type { Reconnect } from './reconnect.ts';
import type { Client, ClientEvents, MessageHandler } from './types.ts';
import type { Transport } from '../transports/contract.ts';

export type UpstreamType = 'subscribe' | 'unsubscribe' | 'publish';

/** An upstream message as a protocol queues it: settled once, by its answer or by the end. */
export interface Settled {
  settle(error?: CometError): void;
}

export interface ClientApiOptions<Item extends Settled> {
  machine: Reconnect;
  /** The transport in use or being tried. */
  transport: () => Transport | undefined;
  /** The subscribers per channel; a channel is subscribed on the server while it has one. */
  channels: Map<string, Set<MessageHandler>>;
  events: ClientEvents;
  /**
   * The protocol's upstream message of `type` (`data` for a publish); `settle` is to be called once,
   * without an error when the server applied it. May throw the error a publish rejects with.
   */
  item: (type: UpstreamType, channel: string, settle: (error?: CometError) => void, data?: unknown) => Item;
  /** Queues an upstream message. */
  push: (item: Item) => void;
}

export interface ClientApi<Item extends Settled> {
  client: Client;
  /** A subscribe of each channel that has subscribers: what a new session sends first. */
  subscriptions: () => Item[];
}

export function clientApi<Item extends Settled>({ machine, transport, channels, events, item, push }: ClientApiOptions<Item>): ClientApi<Item> {
  /** An (un)subscribe. A refused subscription is forgotten, so that a later subscribe asks again. */
  const tell = (type: 'subscribe' | 'unsubscribe', channel: string) => item(type, channel, (error) => {
    if (!error || error.type == 'closed') return;
    if (type == 'subscribe') channels.delete(channel);
    events.emit('error', error);
  });
  /** Queues an upstream message, or settles it at once as `closed` once closed. */
  const queue = (queued: Item) => {
    if (machine.state == 'closed') queued.settle(closedError());
    else push(queued);
  };
  const subscriptions = () => [...channels.keys()].map((channel) => tell('subscribe', channel));
  const client: Client = {
    get state() {
      return machine.state;
    },
    get transport() {
      return machine.state == 'closed' ? null : transport()?.name ?? null;
    },
    subscribe: (channel, handler) => addSubscriber(channels, channel, handler, (type) => { queue(tell(type, channel)); }),
    // Data the protocol cannot send makes `item` throw: the promise rejects with that error.
    publish: (channel, data) => new Promise<void>((resolve, reject) => {
      queue(item('publish', channel, (error) => { if (error) reject(error); else resolve(); }, data));
    }),
    on: events.on,
    off: events.off,
    close: () => { machine.shutdown('client-close'); },
  };
  return { client, subscriptions };
}
