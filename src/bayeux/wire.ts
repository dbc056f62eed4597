// What goes over the wire of one Bayeux session: a request of messages on a transport, every
// message passed through the extensions on its way out and on its way in, and an answer split into
// deliveries (to the subscribers of each matching channel or pattern) and replies (by message id).
import { invoke } from '../emitter.ts';
import { listenerError, type Failure } from '../errors.ts';
import type { ClientEvents, ConnectionOptions, MessageHandler } from '../types.ts';
import { fail } from '../../transports/contract.ts';
import { ackExtension, type BayeuxOptions } from './extensions.ts';
import { channelMatches, isMessage, type BayeuxMessage } from './messages.ts';
import type { BayeuxTransport } from './transports.ts';

/** Gets the replies of a request by message id, after the deliveries of its answer were handled; or why it failed. */
export type RepliesDone = (failure: Failure | undefined, replies?: Map<string, BayeuxMessage>) => void;

export interface WireOptions {
  endpoint: string;
  options: ConnectionOptions;
  /** The subscribers per channel or pattern. */
  channels: Map<string, Set<MessageHandler>>;
  emit: ClientEvents['emit'];
  /** Whether the session closed: deliveries are dropped from then on. */
  closed: () => boolean;
}

export interface Wire {
  /** One request of `messages` on `transport`; returns the function that aborts it. */
  request: (transport: BayeuxTransport, messages: BayeuxMessage[], done: RepliesDone, timeoutMs?: number) => () => void;
  /** Handles the messages of an answer or a stream event; undefined when they are not Bayeux messages. */
  receive: (values: unknown[]) => Map<string, BayeuxMessage> | undefined;
  /** A message id no other message of the session has. */
  id: () => string;
}

export function createWire({ endpoint, options, channels, emit, closed }: WireOptions): Wire {
  const { platform, withCredentials = false, headers = {}, sendTimeoutMs = 15000 } = options;
  const { extensions = [], ack = true } = options as ConnectionOptions & BayeuxOptions;
  // The application's extensions see a message as it goes on the wire and as it came off it: after
  // the built-in ones going out, before them coming in.
  const builtIn = ack ? [ackExtension()] : [];
  const outgoing = [...builtIn, ...extensions];
  const incoming = [...extensions, ...builtIn];
  /** Messages delivered on this connection: the `seq` handlers get. */
  let delivered = 0;
  let lastId = 0;
  const report = (error: unknown) => { emit('error', listenerError(error)); };

  function receive(values: unknown[]) {
    const replies = new Map<string, BayeuxMessage>();
    for (const message of values) {
      if (!isMessage(message)) return undefined;
      for (const hook of incoming) invoke((each: BayeuxMessage) => hook.incoming?.(each), report, message);
      if (typeof message.successful == 'boolean') {
        if (message.id !== undefined) replies.set(String(message.id), message);
      } else if (!message.channel.startsWith('/meta/') && !closed()) {
        const seq = ++delivered;
        for (const [pattern, handlers] of [...channels]) {
          if (!channelMatches(pattern, message.channel)) continue;
          // Each handler once, in order; one that throws is reported, and the others still get it.
          for (const handler of [...handlers]) invoke(handler, report, message.data, { channel: message.channel, seq });
        }
      }
    }
    return replies;
  }

  return {
    request(transport, messages, done, timeoutMs = sendTimeoutMs) {
      try {
        for (const message of messages) for (const hook of outgoing) hook.outgoing?.(message);
        return transport.exchange(platform, { url: endpoint, messages: JSON.stringify(messages), withCredentials, headers, timeoutMs }, (failure, value) => {
          const replies = failure ? undefined : receive(Array.isArray(value) ? value as unknown[] : [value]);
          done(failure ?? (replies ? undefined : fail('malformed', 'not Bayeux messages')), replies);
        });
      } catch (error) {
        // An extension that throws, data JSON cannot encode, or an engine without the transport's needs.
        done(fail('unsupported', String(error)));
        return () => undefined;
      }
    },
    receive,
    id: () => String(++lastId),
  };
}
