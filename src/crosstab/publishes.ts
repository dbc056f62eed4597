// A page's own publishes in cross-tab sharing (src/crosstab.ts): each is offered to whoever leads,
// kept until the leader says how it ended, and offered again to each new leader; the leader sends
// a key once per connection, and the server applies an id once (PROTOCOL.md §6.3).
import { CometError, closedError } from '../errors.ts';
import type { Platform } from '../platform.ts';
import { cometError, PUBLISH, type FlatError, type PublishKey, type TabMessage } from './messages.ts';

interface OwnPublish {
  channel: string;
  data: unknown;
  settle: (error?: CometError) => void;
}

/** Its functions use no `this`. */
export interface Publishes {
  /** Publishes `data` on `channel` through whoever leads; settles when the leader says how it ended. */
  publish: (channel: string, data: unknown) => Promise<void>;
  /** Offers every publish not yet settled: to a new leader, or to the leader once this page can speak. */
  offerAll: () => void;
  /** The leader settled the publish of `key` (none: an (un)subscribe of a replayed request). */
  settled: (key: PublishKey, error: FlatError | undefined) => void;
  /** Rejects every publish not yet settled with `closed`. */
  close: () => void;
}

/** `say` tells every page, and returns false when it could not; `ended` says whether the page closed. */
export function createPublishes(platform: Platform, say: (message: TabMessage) => boolean, ended: () => boolean): Publishes {
  const own = new Map<number, OwnPublish>();
  /** Data that does not clone is refused like data the server cannot take. */
  const offer = (key: number, { channel, data, settle }: OwnPublish) => {
    if (!say([PUBLISH, key, channel, data])) settle(ended() ? closedError() : new CometError('publish-refused', 'bad-data', { code: 'bad-data' }));
  };
  return {
    publish: (channel, data) => new Promise<void>((resolve, reject) => {
      const key = platform.Math.random();
      const publish: OwnPublish = {
        channel,
        data,
        settle(error) {
          own.delete(key);
          if (error) reject(error);
          else resolve();
        },
      };
      own.set(key, publish);
      offer(key, publish);
    }),
    offerAll() {
      for (const [key, publish] of own) offer(key, publish);
    },
    settled(key, error) {
      if (key !== undefined) own.get(key)?.settle(error && cometError(error));
    },
    close() {
      for (const { settle } of own.values()) settle(closedError());
    },
  };
}
