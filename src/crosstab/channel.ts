// The group's BroadcastChannel as a page of cross-tab sharing (src/crosstab.ts) uses it: joined once
// the page holds its own lock, and every message said is heard by the page itself too, so that
// every page, the sayer included, acts on the same messages in the same order.
import type { TabMessage } from './messages.ts';

/** Its functions use no `this`. */
export interface GroupChannel {
  /** Joins the channel: from now on the page hears the others. */
  join: () => void;
  /** Tells every page, this one included. False (and nothing heard) when it could not be sent. */
  say: (message: TabMessage) => boolean;
  /** Leaves the channel: nothing is heard or said any more. */
  leave: () => void;
}

/** `hear` gets each message the page hears, its own included. */
export function groupChannel(Channel: typeof BroadcastChannel, name: string, hear: (message: TabMessage) => void): GroupChannel {
  let channel: BroadcastChannel | undefined;
  let left = false;
  return {
    join() {
      channel = new Channel(name);
      channel.onmessage = ({ data }: MessageEvent<TabMessage>) => { if (!left) hear(data); };
    },
    say(message) {
      if (left) return false;
      try {
        channel?.postMessage(message);
      } catch {
        // Not cloneable (a function in a publish's data), or the channel is closed.
        return false;
      }
      hear(message);
      return true;
    },
    leave() {
      left = true;
      channel?.close();
    },
  };
}
