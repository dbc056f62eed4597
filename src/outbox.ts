// The upstream queue (PROTOCOL.md §6): messages are numbered 1, 2, 3... per session as they enter a
// batch; exactly one send is in flight; a failed send is retried with the same batch and the same
// ids until an answer acknowledges them (the server de-duplicates, §6.3), so each message is
// applied once and in order. A new session (re-handshake) renumbers what is not acknowledged.
import { CometError, isRefusal } from './errors.ts';
import { check, retryAfter, type UpstreamMessage } from './protocol.ts';
import type { Platform, TimerHandle } from './platform.ts';
import type { OneShotResult } from '../transports/request.ts';

export interface OutboxItem {
  readonly type: UpstreamMessage['type'];
  /** The message serialised without its id (see `messageBody`). */
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
 * `push`, `pause` (stops sending, the in-flight request aborted, until `renew`; the messages keep
 * their ids), `renew` (a new session: ids restart at 1, the given subscriptions go first, queued
 * (un)subscribes are dropped) and `close`. A tuple: the bundle carries no member names.
 */
export type Outbox = readonly [
  push: (item: OutboxItem) => void,
  pause: () => void,
  renew: (subscriptions: OutboxItem[]) => void,
  close: (error: CometError) => void,
];

const refuse = (item: OutboxItem | undefined, code: string, status?: number) => {
  item?.settle(new CometError(item.type == 'publish' ? 'publish-refused' : 'subscribe-refused', code, { code, status }));
};

/**
 * @param send sends a JSON array of messages (only while `limits()` gives limits); returns its abort
 * @param limits the session's limits; `undefined` while there is no session to send on
 * @param retryDelayMs the wait before retry `attempt`, at least `floorMs` (the server's `retryMs` of a 429)
 * @param expired the answer says the session is gone: re-handshake, then `renew`
 * @param report a send failed and will be retried
 */
export function createOutbox(
  platform: Platform,
  send: (messages: string, done: (result: OneShotResult) => void) => () => void,
  limits: () => OutboxLimits | undefined,
  retryDelayMs: (attempt: number, floorMs?: number) => number,
  expired: () => void,
  report: (error: CometError) => void,
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
    const { maxBatchMessages, maxBodyBytes, urlRoom } = session;
    // 16: `{"messages":[]}` around a POST body.
    const budget = urlRoom ?? maxBodyBytes - 16;
    let json = '';
    let used = 0;
    let count = 0;
    for (let item; count < (solo ? 1 : maxBatchMessages) && (item = items[count]);) {
      const encoded = `{"id":${base + count},${item.body}}`;
      const escaped = encodeURIComponent(encoded);
      // A POST counts UTF-8 bytes; a GET counts the percent-encoded characters. 3: the separating comma.
      const size = 3 + (urlRoom ? escaped : escaped.replace(/%../g, '-')).length;
      if (used + size <= budget) {
        used += size;
        json += (count++ ? ',' : '') + encoded;
      } else if (count) break;
      else refuse(items.shift(), 'too-large');
    }
    if (!count) return;
    if (solo) solo--;
    inFlight = count;
    // Set before the send starts, so that an answer given at once is recognised.
    const mine = abort = () => { sent(); };
    const sent = send(`[${json}]`, (result) => {
      if (abort != mine) return;
      abort = undefined;
      answer(result);
    });
  }

  function answer(result: OneShotResult) {
    const value = result.ok ? check(result.value) : undefined;
    if (value?.type == 'ack') {
      const { ack, errors = [] } = value;
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
    } else if (value?.type == 'close') {
      return expired();
    } else if (!result.ok && isRefusal(result.failure.status)) {
      // Refused whole, nothing of it applied (§6.2): its ids are free again.
      if (inFlight > 1) solo = inFlight;
      else refuse(items.shift(), result.failure.detail, result.failure.status);
    } else {
      report(result.ok
        ? new CometError('protocol', 'not an ack')
        : new CometError(result.failure.type, result.failure.detail, { status: result.failure.status }));
      return wait(retryDelayMs(attempt++, retryAfter(result)), flush);
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
    (subscriptions) => {
      stop();
      // The fresh subscriptions stand for every queued (un)subscribe: those are done.
      for (const item of items) if (item.type != 'publish') item.settle();
      items = subscriptions.concat(items.filter((item) => item.type == 'publish'));
      base = 1;
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
