// The upstream queue (PROTOCOL.md §6): messages are numbered 1, 2, 3... per session as they enter a
// batch; exactly one send is in flight; a failed send is retried with the same batch and the same
// ids until an answer acknowledges them (the server de-duplicates, §6.3), so each message is
// applied once and in order. A new session (re-handshake) renumbers what is not acknowledged.
import { CometError, isRefusal } from './errors.ts';
import { retryAfter, toAnswer, type UpstreamMessage } from './protocol.ts';
import type { Platform, TimerHandle } from './platform.ts';
import type { OneShotResult } from '../transports/request.ts';

/** Browsers and proxies all accept URLs under 2,000 characters (§6.2). */
export const MAX_URL_LENGTH = 2000;

export interface OutboxItem {
  readonly type: UpstreamMessage['type'];
  /** The message serialised without its id (see `messageBody`). */
  readonly body: string;
  /** Called once: without an error when acknowledged, with one when refused or closed. */
  readonly settle: (error?: CometError) => void;
  id?: number;
}

export interface OutboxLimits {
  maxBatchMessages: number;
  maxBodyBytes: number;
  /** The length of the send URL before `&messages=` when sends go by script (GET); 0 for a POST. */
  urlLength: number;
}

export interface OutboxHost {
  /** Sends a JSON array of messages (called only while `limits()` gives limits). */
  send(messages: string, done: (result: OneShotResult) => void): { abort(): void };
  /** The session's limits; `undefined` while there is no session to send on. */
  limits(): OutboxLimits | undefined;
  /** The wait before retry `attempt`, at least `floorMs` (the server's `retryMs` of a 429). */
  retryDelayMs(attempt: number, floorMs?: number): number;
  /** The answer says the session is gone: re-handshake, then `renew`. */
  expired(): void;
  /** A send failed and will be retried. */
  report(error: CometError): void;
}

export interface Outbox {
  push(item: OutboxItem): void;
  /** Stops sending (the in-flight request is aborted) until `renew`; the batch keeps its ids. */
  pause(): void;
  /** A new session: ids restart at 1, the given subscriptions go first, queued (un)subscribes are dropped. */
  renew(subscriptions: OutboxItem[]): void;
  close(error: CometError): void;
}

const refusal = (item: OutboxItem, code: string, status?: number) =>
  new CometError(item.type == 'publish' ? 'publish-refused' : 'subscribe-refused', code, { code, status });

export function createOutbox(platform: Platform, host: OutboxHost): Outbox {
  let queue: OutboxItem[] = [];
  /** The batch in flight or waiting for its retry; its items have ids. */
  let batch: OutboxItem[] = [];
  let nextId = 1;
  let attempt = 0;
  /** After a request was refused whole, this many messages go one per request, so only the culprit is refused. */
  let solo = 0;
  let request: { abort(): void } | undefined;
  let timer: TimerHandle;

  const stop = () => {
    request?.abort();
    platform.clearTimeout(timer);
    request = timer = undefined;
  };
  const wait = (delayMs: number) => {
    timer = platform.setTimeout(() => {
      timer = undefined;
      flush();
    }, delayMs);
  };
  const encode = (item: OutboxItem, id = item.id) => `{"id":${id},${item.body}}`;
  const requeue = (items: OutboxItem[]) => { queue = items.concat(queue); };

  function take({ maxBatchMessages, maxBodyBytes, urlLength }: OutboxLimits): OutboxItem[] {
    // 16: `{"messages":[]}` around a POST body; 20: `&messages=` and the encoded brackets of a GET.
    const budget = urlLength ? MAX_URL_LENGTH - urlLength - 20 : maxBodyBytes - 16;
    const taken: OutboxItem[] = [];
    let used = 0;
    for (let item = queue[0]; item && taken.length < (solo ? 1 : maxBatchMessages); item = queue[0]) {
      const encoded = encodeURIComponent(encode(item, nextId));
      // A POST counts UTF-8 bytes; a GET counts the percent-encoded characters. 3: the separating comma.
      const size = 3 + (urlLength ? encoded : encoded.replace(/%../g, '-')).length;
      if (used + size > budget && taken.length) break;
      queue.shift();
      if (size > budget) item.settle(refusal(item, 'too-large'));
      else {
        used += size;
        item.id = nextId++;
        taken.push(item);
      }
    }
    if (solo) solo--;
    return taken;
  }

  function flush() {
    const limits = host.limits();
    if (request || timer !== undefined || !limits) return;
    if (!batch.length) batch = take(limits);
    if (!batch.length) return;
    // The handle exists before the send starts, so that an answer given at once is recognised.
    const mine = { abort: () => sent.abort() };
    request = mine;
    const sent = host.send(`[${batch.map((item) => encode(item)).join()}]`, (result) => {
      if (request != mine) return;
      request = undefined;
      answer(result);
    });
  }

  function answer(result: OneShotResult) {
    const value = result.ok ? toAnswer(result.value) : undefined;
    const done = batch;
    const [first] = done;
    if (!first) return;
    if (value?.type == 'ack') {
      attempt = 0;
      batch = [];
      const rest = done.filter((item) => Number(item.id) > value.ack);
      // A hole: the server stopped before these; they go again from ack + 1 (§6.3).
      if (rest.length) {
        nextId = value.ack + 1;
        requeue(rest);
      }
      for (const item of done) {
        const code = value.errors.find((error) => error.id == item.id)?.code;
        if (!rest.includes(item)) item.settle(code === undefined ? undefined : refusal(item, code));
      }
    } else if (value) {
      return host.expired();
    } else if (!result.ok && isRefusal(result.failure.status)) {
      // Refused whole, nothing of it applied (§6.2): its ids are free again.
      batch = [];
      nextId = Number(first.id);
      if (done[1]) {
        solo = done.length;
        requeue(done);
      } else first.settle(refusal(first, result.failure.detail, result.failure.status));
    } else {
      host.report(result.ok
        ? new CometError('protocol', 'not an ack')
        : new CometError(result.failure.type, result.failure.detail, { status: result.failure.status }));
      return wait(host.retryDelayMs(attempt++, retryAfter(result)));
    }
    flush();
  }

  return {
    push(item) {
      queue.push(item);
      // A timer of 0: the publishes of one task travel in one batch.
      if (!request && timer === undefined) wait(0);
    },
    pause: stop,
    renew(subscriptions) {
      stop();
      const kept = batch.concat(queue);
      // The fresh subscriptions stand for every queued (un)subscribe: those are done.
      for (const item of kept) if (item.type != 'publish') item.settle();
      queue = subscriptions.concat(kept.filter((item) => item.type == 'publish'));
      batch = [];
      nextId = 1;
      attempt = solo = 0;
      flush();
    },
    close(error) {
      stop();
      for (const item of batch.concat(queue)) item.settle(error);
      batch = queue = [];
    },
  };
}
