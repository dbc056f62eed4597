// The Bayeux upstream queue: subscribes, unsubscribes and publishes, sent in batches, one request at
// a time, beside (never inside) the /meta/connect loop, so a client holds at most two requests. A
// batch goes in one request (split by script to keep URLs short); each message is settled by its
// reply. Subscribes and unsubscribes that fail below Bayeux are sent again after a backoff; a
// publish is not (Bayeux has no duplicate detection: the server may have applied it), and rejects.
import { CometError, type CometErrorType } from '../errors.ts';
import type { Platform, TimerHandle } from '../platform.ts';
import { isUnknownClient, parseError, refusalType, type BayeuxMessage } from './messages.ts';

/** A failure below Bayeux: a transport's, or the session's own checks. */
export interface UpstreamFailure {
  type: CometErrorType;
  detail: string;
  status?: number | undefined;
}

export interface UpstreamItem {
  /** The message without `id` and `clientId`, which each send sets. */
  readonly message: BayeuxMessage;
  /** Called once: without an error when the server's reply was successful. */
  settle(error?: CometError): void;
}

export interface UpstreamRoute {
  /**
   * Sends `messages`; `done` gets the replies of the request by message id (the other messages of
   * the answer, deliveries, the route handles itself). Returns the function that aborts it.
   */
  send(messages: BayeuxMessage[], done: (failure: UpstreamFailure | undefined, replies?: Map<string, BayeuxMessage>) => void): () => void;
  /** The characters the encoded messages of one request may take, when they travel in a URL. */
  room(): number | undefined;
  /** A message was refused because the server no longer knows the client: handshake again. */
  unknownClient(): void;
  /** The wait before sending a batch again after a failure below Bayeux. */
  delay(attempt: number): number;
  /** A message id no other message of the session has. */
  id(): string;
}

/** How many of the first messages of `queue` go in one request: as many as fit in a URL by script (`room`), otherwise all. */
function batchSize(queue: readonly UpstreamItem[], room: number | undefined): number {
  if (room === undefined) return queue.length;
  let used = 2;
  let count = 0;
  for (const { message } of queue) {
    used += encodeURIComponent(JSON.stringify(message)).length + 60;
    if (used > room && count) break;
    count++;
  }
  return count;
}

/**
 * Settles each message of a request by its reply (`ids`: the id each was sent with), and hands those
 * refused because the server does not know the client to `requeue`: not applied, they go again in
 * the next session. Returns whether there was any.
 */
function settleReplies(batch: readonly UpstreamItem[], ids: readonly string[], replies: Map<string, BayeuxMessage> | undefined,
  requeue: (item: UpstreamItem) => void): boolean {
  let unknown = false;
  for (const [index, item] of batch.entries()) {
    const reply = replies?.get(ids[index] ?? '');
    if (!reply || reply.successful) item.settle();
    else if (isUnknownClient(reply)) {
      unknown = true;
      requeue(item);
    }
    else {
      const { code, message } = parseError(reply.error);
      item.settle(new CometError(refusalType(reply.channel), message || 'refused', { code: code ? String(code) : undefined, willRetry: false }));
    }
  }
  return unknown;
}

/** The Bayeux upstream queue. */
export function createUpstream(platform: Platform, route: UpstreamRoute) {
  let queue: UpstreamItem[] = [];
  let clientId: string | undefined;
  let abort: (() => void) | undefined;
  /** The messages of the request in flight. */
  let sending: UpstreamItem[] = [];
  let timer: TimerHandle;
  let attempts = 0;

  const schedule = () => {
    platform.clearTimeout(timer);
    timer = platform.setTimeout(flush, 0);
  };

  function flush() {
    if (!clientId || abort || !queue.length) return;
    const batch = sending = queue.splice(0, batchSize(queue, route.room()));
    const messages = batch.map(({ message }) => ({ ...message, id: route.id(), clientId }));
    const ids = messages.map(({ id }) => id);
    abort = route.send(messages, (failure, replies) => {
      abort = undefined;
      sending = [];
      if (failure) return failed(batch, failure);
      attempts = 0;
      if (settleReplies(batch, ids, replies, (item) => queue.push(item))) {
        clientId = undefined;
        route.unknownClient();
      }
      schedule();
    });
  }

  function failed(batch: UpstreamItem[], { type, detail, status }: UpstreamFailure) {
    const again = batch.filter(({ message }) => message.channel.startsWith('/meta/'));
    for (const item of batch) {
      if (!again.includes(item)) item.settle(new CometError(type == 'http-status' && status == 414 ? 'publish-refused' : type, detail, { status, willRetry: false }));
    }
    if (!again.length) return schedule();
    queue = again.concat(queue);
    platform.clearTimeout(timer);
    timer = platform.setTimeout(flush, route.delay(attempts++));
  }

  return {
    push(item: UpstreamItem) {
      queue.push(item);
      schedule();
    },
    /** Holds the queue while there is no session; a request in flight is dropped and its messages go again. */
    pause() {
      clientId = undefined;
    },
    /**
     * A new session: `subscriptions` replace the (un)subscribes still queued, and go first; the
     * publishes stay queued.
     */
    renew(subscriptions: UpstreamItem[]) {
      queue = subscriptions.concat(queue.filter(({ message }) => !message.channel.startsWith('/meta/')));
    },
    resume(id: string) {
      clientId = id;
      attempts = 0;
      schedule();
    },
    /** Settles every message not yet answered with `error`. */
    close(error: CometError) {
      clientId = undefined;
      abort?.();
      abort = undefined;
      platform.clearTimeout(timer);
      for (const item of sending.concat(queue.splice(0))) item.settle(error);
      sending = [];
    },
  };
}
