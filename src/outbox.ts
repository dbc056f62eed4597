// The upstream queue (PROTOCOL.md §6): messages are numbered 1, 2, 3... per session as they enter a
// request; exactly one send is in flight; a failed send is retried with the same batch and the same
// ids until an answer acknowledges them (the server de-duplicates, §6.3), so each message is
// applied once and in order. A new session (re-handshake) renumbers what is not acknowledged. By
// default each request carries one message; `batchMessages` (batching.ts) gathers them into batches.
import { CometError, isRefusal } from './errors.ts';
import { check, type UpstreamMessage } from './protocol.ts';
import type { Platform, TimerHandle } from './platform.ts';
import { fail, type OneShotDone, type TransportFailure } from '../transports/contract.ts';

export interface OutboxItem {
  readonly type: UpstreamMessage['type'];
  /** The message serialised without its id (`Batching.body`). */
  readonly body: string;
  /** Called once: without an error when acknowledged, with one when refused or closed. */
  readonly settle: (error?: CometError) => void;
}

export interface OutboxLimits {
  maxBatchMessages: number;
  maxBodyBytes: number;
  /** When sends go by script (GET): the percent-encoded characters the messages may take in the URL. */
  urlRoom?: number | undefined;
}

/**
 * How the outbox forms its requests (`CometClientCoreOptions.batching`): the default, `oneByOne`,
 * sends one message per request; `batchMessages` (batching.ts) gathers many.
 */
export interface Batching {
  /** Serialises one message without its `id`; may throw the error its publish rejects with. */
  readonly body: (type: UpstreamMessage['type'], channel: string, data?: unknown) => string;
  /**
   * The messages of the next request, numbered from `base`, as the members of a JSON array, and
   * how many of the first items they are (0: nothing to send). Settles, with `refuse`, the first
   * items that no request can carry. `solo`: when not 0, one message only (isolating a refusal).
   */
  readonly batch: (items: OutboxItem[], base: number, limits: OutboxLimits, solo: number) => [json: string, count: number];
}

/**
 * One message per request: what `CometClientCore` does by default. The server checks the data
 * (§6.2): data it cannot take is refused (`bad-json`, `forbidden-key`, `message-too-large`), and
 * data with no JSON form (a cycle, a BigInt) rejects the publish with the serialiser's error.
 */
export const oneByOne: Batching = {
  body: (type, channel, data) => `"type":"${type}","channel":${JSON.stringify(channel)}${type == 'publish' ? ',"data":' + JSON.stringify(data) : ''}`,
  batch: (items, base) => [`{"id":${base},${items[0]?.body}}`, items.length && 1],
};

/**
 * `push`, `pause` (stops sending, the in-flight request aborted, until `renew`; the messages keep
 * their ids), `renew` (a new session: ids restart at `first`, 1 unless a cross-tab takeover
 * continues a session (crosstab.ts); the given subscriptions go first, queued (un)subscribes are
 * dropped) and `close`. A tuple: the bundle carries no member names.
 */
export type Outbox = readonly [
  push: (item: OutboxItem) => void,
  pause: () => void,
  renew: (subscriptions: OutboxItem[], first?: number) => void,
  close: (error: CometError) => void,
];

export const refuse = (item: OutboxItem | undefined, code: string, status?: number): void => {
  item?.settle(new CometError(item.type == 'publish' ? 'publish-refused' : 'subscribe-refused', code, { code, status }));
};

/**
 * @param send sends a JSON array of messages (only while `limits()` gives limits); returns its abort
 * @param limits the session's limits; `undefined` while there is no session to send on
 * @param retryDelayMs the wait before retry `attempt`, at least `floorMs` (the server's `retryMs` of a 429)
 * @param expired the answer says the session is gone, or its `ack` went back: re-handshake, then `renew`
 * @param report a send failed and will be retried
 * @param batching how requests are formed
 */
export function createOutbox(
  platform: Platform,
  send: (messages: string, done: OneShotDone) => () => void,
  limits: () => OutboxLimits | undefined,
  retryDelayMs: (attempt: number, floorMs?: number) => number,
  expired: () => void,
  report: (error: CometError) => void,
  { batch }: Batching,
): Outbox {
  /**
   * The messages not yet settled, in order. Ids are implicit: the first has id `base`, the next
   * base + 1, and so on, so a retry sends the same ids, and a message refused before it was
   * applied frees its id for the next one.
   */
  let items: OutboxItem[] = [];
  let base = 1;
  /** How many of the first items the request in flight carries. */
  let inFlight = 0;
  let attempt = 0;
  /** After a request was refused whole, this many messages go one per request, so only the culprit is refused. */
  let solo = 0;
  let abort: (() => void) | undefined;
  /** The wait before a retry, or the timer of 0 that gathers a task's messages. */
  let timer: TimerHandle;

  const stop = () => {
    abort?.();
    platform.clearTimeout(timer);
    abort = timer = undefined;
  };
  const wait = (delayMs: number, then: () => void) => {
    timer = platform.setTimeout(() => {
      timer = undefined;
      then();
    }, delayMs);
  };

  function flush() {
    const session = limits();
    if (abort || timer !== undefined || !session) return;
    const [json, count] = batch(items, base, session, solo);
    if (!count) return;
    if (solo) solo--;
    inFlight = count;
    // Set before the send starts, so that an answer given at once is recognised.
    const mine = abort = () => { sent(); };
    const sent = send(`[${json}]`, (failure, value) => {
      if (abort != mine) return;
      abort = undefined;
      answer(failure, value);
    });
  }

  function answer(failure?: TransportFailure, value?: unknown) {
    const answered = failure ? undefined : check(value);
    if (answered?.type == 'ack') {
      const { ack, errors = [] } = answered;
      // Below what it acknowledged before: the server lost this session's state (§6.3 has `ack`
      // only grow). Treated as the session's end, so the messages are renumbered in a new one.
      if (ack < base - 1) return expired();
      attempt = 0;
      // Every message at or below `ack` is done, refused or not (§6.2); the rest go again from
      // ack + 1 (a hole, §6.3).
      const done = items.splice(0, Math.min(inFlight, ack - base + 1));
      done.forEach((item, index) => {
        const code = errors.find((error) => error.id == base + index)?.code;
        if (code === undefined) item.settle();
        else refuse(item, code);
      });
      base += done.length;
    } else if (answered?.type == 'close') {
      return expired();
    } else if (failure && isRefusal(failure.status)) {
      // Refused whole, nothing of it applied (§6.2): its ids are free again.
      if (inFlight > 1) solo = inFlight;
      else refuse(items.shift(), failure.detail, failure.status);
    } else {
      const { type, detail, status, retryMs } = failure ?? fail('protocol', 'not an ack');
      report(new CometError(type, detail, { status }));
      return wait(retryDelayMs(attempt++, retryMs), flush);
    }
    flush();
  }

  return [
    (item) => {
      items.push(item);
      // A timer of 0: the publishes of one task travel in one batch.
      if (!abort && timer === undefined) wait(0, flush);
    },
    stop,
    (subscriptions, first = 1) => {
      stop();
      // The fresh subscriptions stand for every queued (un)subscribe: those are done.
      for (const item of items) if (item.type != 'publish') item.settle();
      items = subscriptions.concat(items.filter((item) => item.type == 'publish'));
      base = first;
      attempt = solo = 0;
      flush();
    },
    (error) => {
      stop();
      for (const item of items) item.settle(error);
      items = [];
    },
  ];
}
