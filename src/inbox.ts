// The messages of a session as the subscribers get them (PROTOCOL.md §5.1): each `seq` once and in
// order, to the handlers of its channel. A `seq` at or below the highest processed is a duplicate:
// a resumed request, or a new cross-tab leader (crosstab.ts), may deliver a message again.
import { invoke } from './emitter.ts';
import { listenerError } from './errors.ts';
import type { ClientEvents, MessageHandler } from './types.ts';

export interface Inbox {
  /** The highest `seq` processed: where the next request resumes from. */
  since: number;
  /** Hands a message to its channel's handlers, unless it is a duplicate; returns whether it was new. */
  deliver: (channel: string, seq: number, data: unknown) => boolean;
  /** The server could not deliver `from`..`to` (§5.1 `gap`): the next request resumes after it. */
  gap: (from: number, to: number) => void;
}

/** `handlers`: the handlers per channel; an exception in one goes to `emit` as a `listener` error. */
export function createInbox(handlers: Map<string, Set<MessageHandler>>, emit: ClientEvents['emit']): Inbox {
  const inbox: Inbox = {
    since: 0,
    deliver(channel, seq, data) {
      if (seq <= inbox.since) return false;
      inbox.since = seq;
      // Each handler once, in order; one that throws is reported, and the others still get it.
      for (const handler of [...handlers.get(channel) ?? []]) {
        invoke(handler, (error) => { emit('error', listenerError(error)); }, data, { channel, seq });
      }
      return true;
    },
    gap(from, to) {
      if (to <= inbox.since) return;
      inbox.since = to;
      emit('gap', { from, to });
    },
  };
  return inbox;
}
