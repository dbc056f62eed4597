// The upstream queue (PROTOCOL.md §6): messages are numbered 1, 2, 3... per session as they enter a
// request; exactly one send is in flight; a failed send is retried with the same batch and the same
// ids until an answer acknowledges them (the server de-duplicates, §6.3), so each message is
// applied once and in order. A new session (re-handshake) renumbers what is not acknowledged. By
// default each request carries one message; `batchMessages` (batching.ts) gathers them into batches.
import { CometError, isRefusal } from './errors.ts';
import { check, type Ack, type UpstreamMessage } from './protocol.ts';
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

/** The messages of one request. */
export interface Batch {
  /** The messages, numbered, as the members of a JSON array. */
  json: string;
  /** How many of the first items they are (0: nothing to send). */
  count: number;
}

/**
 * How the outbox forms its requests (`CometClientCoreOptions.batching`): the default, `oneByOne`,
 * sends one message per request; `batchMessages` (batching.ts) gathers many.
 */
export interface Batching {
  /** Serialises one message without its `id`; may throw the error its publish rejects with. */
  readonly body: (type: UpstreamMessage['type'], channel: string, data?: unknown) => string;
  /**
   * The messages of the next request, numbered from `base`. Settles, with `refuse`, the first
   * items that no request can carry. `solo`: when not 0, one message only (isolating a refusal).
   */
  readonly batch: (items: OutboxItem[], base: number, limits: OutboxLimits, solo: number) => Batch;
}

/**
 * One message per request: what `CometClientCore` does by default. The server checks the data
 * (§6.2): data it cannot take is refused (`bad-json`, `forbidden-key`, `message-too-large`), and
 * data with no JSON form (a cycle, a BigInt) rejects the publish with the serialiser's error.
 */
export const oneByOne: Batching = {
  body: (type, channel, data) => `"type":"${type}","channel":${JSON.stringify(channel)}${type == 'publish' ? ',"data":' + JSON.stringify(data) : ''}`,
  batch: (items, base) => ({ json: `{"id":${base},${items[0]?.body}}`, count: Math.min(items.length, 1) }),
};

/** The upstream queue of one connection. Its functions use no `this`. */
export interface Outbox {
  /** Queues a message; the messages of one task leave together. */
  push: (item: OutboxItem) => void;
  /** Stops sending until `renew`: the request in flight is aborted, the messages keep their ids. */
  pause: () => void;
  /**
   * A new session: ids restart at `first` (1, unless a cross-tab takeover continues a session,
   * crosstab.ts); `subscriptions` go first and stand for every queued (un)subscribe, which is
   * settled as done.
   */
  renew: (subscriptions: OutboxItem[], first?: number) => void;
  /** Settles every message with `error` (the connection closed). */
  close: (error: CometError) => void;
}

/** What the outbox asks of its connection. */
export interface OutboxHost {
  /** Sends a JSON array of messages (only while `limits()` gives limits); returns its abort. */
  send: (messages: string, done: OneShotDone) => () => void;
  /** The session's limits; `undefined` while there is no session to send on. */
  limits: () => OutboxLimits | undefined;
  /** The wait before retry `attempt`, at least `floorMs` (the server's `retryMs` of a 429). */
  retryDelayMs: (attempt: number, floorMs?: number) => number;
  /** The answer says the session is gone, or its `ack` went back: re-handshake, then `renew`. */
  expired: () => void;
  /** A send failed and will be retried. */
  report: (error: CometError) => void;
  /** How requests are formed. */
  batching: Batching;
}

export const refuse = (item: OutboxItem | undefined, code: string, status?: number): void => {
  item?.settle(new CometError(item.type == 'publish' ? 'publish-refused' : 'subscribe-refused', code, { code, status }));
};

/**
 * Settles the first `count` items, which an ack covers (§6.2: every id at or below `ack` is done,
 * refused or not), the first of them numbered `base`.
 */
const settleAcknowledged = (done: OutboxItem[], base: number, { errors = [] }: Ack) => {
  done.forEach((item, index) => {
    const code = errors.find((error) => error.id == base + index)?.code;
    if (code === undefined) item.settle();
    else refuse(item, code);
  });
};

export function createOutbox(platform: Platform, host: OutboxHost): Outbox {
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
    const limits = host.limits();
    if (abort || timer !== undefined || !limits) return;
    const { json, count } = host.batching.batch(items, base, limits, solo);
    if (!count) return;
    if (solo) solo--;
    inFlight = count;
    // Set before the send starts, so that an answer given at once is recognised.
    const mine = abort = () => { sent(); };
    const sent = host.send(`[${json}]`, (failure, value) => {
      if (abort != mine) return;
      abort = undefined;
      answer(failure, value);
    });
  }

  function answer(failure?: TransportFailure, value?: unknown) {
    const answered = failure ? undefined : check(value);
    if (answered?.type == 'ack') {
      // Below what it acknowledged before: the server lost this session's state (§6.3 has `ack`
      // only grow). Treated as the session's end, so the messages are renumbered in a new one.
      if (answered.ack < base - 1) return host.expired();
      attempt = 0;
      // The rest go again from ack + 1 (a hole, §6.3).
      const done = items.splice(0, Math.min(inFlight, answered.ack - base + 1));
      settleAcknowledged(done, base, answered);
      base += done.length;
    } else if (answered?.type == 'close') {
      return host.expired();
    } else if (failure && isRefusal(failure.status)) {
      // Refused whole, nothing of it applied (§6.2): its ids are free again.
      if (inFlight > 1) solo = inFlight;
      else refuse(items.shift(), failure.detail, failure.status);
    } else {
      const { type, detail, status, retryMs } = failure ?? fail('protocol', 'not an ack');
      host.report(new CometError(type, detail, { status }));
      return wait(host.retryDelayMs(attempt++, retryMs), flush);
    }
    flush();
  }

  return {
    push: (item) => {
      items.push(item);
      // A timer of 0: the publishes of one task travel in one batch.
      if (!abort && timer === undefined) wait(0, flush);
    },
    pause: stop,
    renew: (subscriptions, first = 1) => {
      stop();
      // The fresh subscriptions stand for every queued (un)subscribe: those are done.
      for (const item of items) if (item.type != 'publish') item.settle();
      items = subscriptions.concat(items.filter((item) => item.type == 'publish'));
      base = first;
      attempt = solo = 0;
      flush();
    },
    close: (error) => {
      stop();
      for (const item of items) item.settle(error);
      items = [];
    },
  };
}
