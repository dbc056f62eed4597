// A connection's subscribers per channel, in order, reference-counted: the channel is subscribed on
// the server while it has one. Shared by both protocols (connection.ts, bayeux/session.ts).
import type { MessageHandler, Subscription } from './types.ts';

/**
 * Adds `handler` to `channel`'s subscribers. `tell('subscribe')` when it is the channel's first,
 * `tell('unsubscribe')` when its unsubscribe leaves the channel without any.
 */
export function addSubscriber<Data>(channels: Map<string, Set<MessageHandler>>, channel: string, handler: MessageHandler<Data>,
  tell: (type: 'subscribe' | 'unsubscribe') => void): Subscription {
  // A function of its own per call: the same handler subscribed twice is two subscriptions.
  const subscriber: MessageHandler = (data, message) => { handler(data as Data, message); };
  let subscribers = channels.get(channel);
  if (!subscribers) {
    channels.set(channel, subscribers = new Set());
    tell('subscribe');
  }
  subscribers.add(subscriber);
  return {
    // A second call, or one after the channel was refused, finds nothing to remove.
    unsubscribe() {
      const subscribed = channels.get(channel);
      if (subscribed?.delete(subscriber) && !subscribed.size) {
        channels.delete(channel);
        tell('unsubscribe');
      }
    },
  };
}
