// One client's server-side state (PROTOCOL.md section 1): downstream seq and resume buffer
// (sections 5.2, 8.4), subscriptions, and the upstream exactly-once state (section 6.3).
import type { OutFrame } from './encodings.ts';
import { gapFrame } from './encodings.ts';
import type { SessionInfo } from './options.ts';

/** A buffered `msg` frame; `eventId` is its seq. */
interface BufferEntry extends OutFrame {
  readonly eventId: number;
  readonly bytes: number;
}

export interface BufferLimits {
  readonly bufferMaxMessages: number;
  readonly bufferMaxBytes: number;
}

/** The frames a connection still owes its client, and the seq they bring it to. */
export interface Pending {
  readonly frames: readonly OutFrame[];
  readonly throughSeq: number;
}

/**
 * The resume buffer. Messages are removed from the front only (confirmed by a `since`, or evicted
 * for space), so it always holds exactly the seqs `droppedThroughSeq + 1 .. seq`: a reader that
 * has seen up to S misses `S + 1 .. droppedThroughSeq` when that range is not empty.
 */
export class ResumeBuffer {
  #limits: BufferLimits;
  #entries: BufferEntry[] = [];
  #head = 0;
  #bytes = 0;
  #seq = 0;
  #droppedThroughSeq = 0;

  constructor(limits: BufferLimits) {
    this.#limits = limits;
  }

  /** The highest seq issued. */
  get seq(): number {
    return this.#seq;
  }

  get size(): number {
    return this.#entries.length - this.#head;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get droppedThroughSeq(): number {
    return this.#droppedThroughSeq;
  }

  /**
   * Appends a `msg` frame. `sharedTail` (`"channel":...,"data":...}`) was serialised once for the
   * whole publish; only the seq is per session.
   */
  append(sharedTail: string, sharedTailBytes: number): void {
    const seq = ++this.#seq;
    const prefix = `{"type":"msg","seq":${seq},`;
    // The prefix is ASCII, so its length in characters is its length in bytes.
    const entry: BufferEntry = { json: prefix + sharedTail, eventId: seq, bytes: prefix.length + sharedTailBytes };
    this.#entries.push(entry);
    this.#bytes += entry.bytes;
    // Section 8.4: drop the oldest when over either bound. The newest message always stays, so a
    // message larger than the byte bound is still delivered to a connected client.
    while (this.size > 1 && (this.size > this.#limits.bufferMaxMessages || this.#bytes > this.#limits.bufferMaxBytes)) {
      this.#shift();
    }
  }

  /** Section 5.2 step 3: the client confirmed everything up to `since`. */
  confirm(since: number): void {
    for (let entry = this.#entries[this.#head]; entry !== undefined && entry.eventId <= since; entry = this.#entries[this.#head]) {
      this.#shift();
    }
  }

  /**
   * Section 5.2 steps 4 and 5, also used for every later batch of a live connection. With
   * `maxBytes`, stops before the message that would pass it (but always takes at least one), so
   * a large backlog goes out in parts and a client behind a proxy that cuts long answers still
   * makes progress.
   */
  pendingAfter(sentThroughSeq: number, maxBytes = Infinity): Pending {
    const frames: OutFrame[] = [];
    let from = sentThroughSeq;
    if (this.#droppedThroughSeq > from) {
      frames.push(gapFrame(from + 1, this.#droppedThroughSeq));
      from = this.#droppedThroughSeq;
    }
    // Entries are contiguous, so the first one after `from` is found by arithmetic.
    let bytes = 0;
    for (const entry of this.#entries.slice(this.#head + (from - this.#droppedThroughSeq))) {
      bytes += entry.bytes;
      if (bytes > maxBytes && from > sentThroughSeq) break;
      frames.push(entry);
      from = entry.eventId;
    }
    return { frames, throughSeq: from };
  }

  #shift(): void {
    const entry = this.#entries[this.#head];
    if (entry === undefined) return;
    this.#head++;
    this.#bytes -= entry.bytes;
    this.#droppedThroughSeq = entry.eventId;
    // Compact now and then instead of `shift()`ing every time, which is O(n) per call.
    if (this.#head >= 1024 && this.#head * 2 >= this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
  }
}

/** Section 6.4: a token bucket refilled lazily from elapsed time, so it needs no timer. */
export class TokenBucket {
  #ratePerSecond: number;
  #capacity: number;
  #tokens: number;
  #updatedAtMs: number;

  constructor(ratePerSecond: number, capacity: number, nowMs: number) {
    this.#ratePerSecond = ratePerSecond;
    this.#capacity = capacity;
    this.#tokens = capacity;
    this.#updatedAtMs = nowMs;
  }

  /** Takes `count` tokens and returns 0, or takes none and returns the milliseconds to wait. */
  take(count: number, nowMs: number): number {
    this.#tokens = Math.min(this.#capacity, this.#tokens + ((nowMs - this.#updatedAtMs) * this.#ratePerSecond) / 1000);
    this.#updatedAtMs = nowMs;
    if (this.#tokens >= count) {
      this.#tokens -= count;
      return 0;
    }
    // A request larger than the burst exceeds it whatever the wait (section 6.4): it is told the
    // time to a full bucket, and a client must split it (keep sendBurst >= maxBatchMessages).
    const needed = Math.min(count, this.#capacity);
    return Math.max(1, Math.ceil(((needed - this.#tokens) * 1000) / this.#ratePerSecond));
  }
}

export type RefusalCode = 'forbidden' | 'bad-channel' | 'too-many-channels';

/** Section 6.3: how many refusals a session remembers to report again on a retry. */
export const REFUSAL_MEMORY = 64;

/** A minimal view of a downstream connection, so this module does not depend on node:http. */
export interface DownstreamHandle {
  readonly streaming: boolean;
}

/**
 * Section 5.3: the message bytes of one poll answer start at MIN_POLL_BYTES (the batch bound, which
 * any intermediary that lets a batch through lets through) and adapt per session between the two.
 */
export const MIN_POLL_BYTES = 32 * 1024;
export const MAX_POLL_BYTES = 1024 * 1024;

export class Session implements SessionInfo {
  readonly id: string;
  readonly principal: unknown;
  readonly buffer: ResumeBuffer;
  readonly subscriptions = new Set<string>();
  readonly bucket: TokenBucket;
  /** The open downstream response, at most one (section 8.3). */
  downstream: DownstreamHandle | undefined;
  /** When the last downstream request ended (or the session began): the expiry clock of 8.4. */
  idleSinceMs: number;
  /** This session's HTTP requests currently open (downstream and sends), and the most ever. */
  inFlight = 0;
  maxInFlight = 0;
  downstreamRequests = 0;
  /** Sends waiting for or in processing; section 6.3 serialises them. */
  queuedSends = 0;
  closed = false;
  /** Section 5.3: the message bytes the next poll answer may carry. */
  pollBytes = MIN_POLL_BYTES;
  /** The seq the last poll answer brought its client to, until the next request judges it; 0 then. */
  #polledThroughSeq = 0;
  #acked = 0;
  #refusals = new Map<number, RefusalCode>();
  #sendChain: Promise<void> = Promise.resolve();

  constructor(id: string, principal: unknown, limits: BufferLimits & { sendRatePerSecond: number; sendBurst: number }, nowMs: number) {
    this.id = id;
    this.principal = principal;
    this.buffer = new ResumeBuffer(limits);
    this.bucket = new TokenBucket(limits.sendRatePerSecond, limits.sendBurst, nowMs);
    this.idleSinceMs = nowMs;
  }

  get seq(): number {
    return this.buffer.seq;
  }

  /** A method rather than the field, so that checks after an `await` are not narrowed away. */
  isClosed(): boolean {
    return this.closed;
  }

  /** The highest applied upstream message id (section 6.3). */
  get acked(): number {
    return this.#acked;
  }

  /** Marks message `acked + 1` applied, remembering its refusal if it had one. */
  applied(id: number, refusal: RefusalCode | undefined): void {
    if (id !== this.#acked + 1) throw new Error('cometkit: upstream messages must be applied in order');
    this.#acked = id;
    if (refusal === undefined) return;
    this.#refusals.set(id, refusal);
    if (this.#refusals.size > REFUSAL_MEMORY) {
      // Maps iterate in insertion order, and ids are inserted increasing: the first is the oldest.
      const oldest = this.#refusals.keys().next().value;
      if (oldest !== undefined) this.#refusals.delete(oldest);
    }
  }

  refusalOf(id: number): RefusalCode | undefined {
    return this.#refusals.get(id);
  }

  /** Runs `task` after every send queued before it: one send of a session at a time. */
  serialise<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#sendChain.then(task);
    this.#sendChain = result.then(() => undefined, () => undefined);
    return result;
  }

  /** A poll answer carried frames that bring its client to `throughSeq`. */
  polled(throughSeq: number): void {
    this.#polledThroughSeq = throughSeq;
  }

  /**
   * A downstream request arrived with `since`: it tells whether the last poll answer arrived whole.
   * If so the next answer may carry twice as much, if not (an intermediary cut it) half as much.
   */
  judgePoll(since: number): void {
    const through = this.#polledThroughSeq;
    if (!through) return;
    this.#polledThroughSeq = 0;
    this.pollBytes = since >= through ? Math.min(MAX_POLL_BYTES, this.pollBytes * 2) : Math.max(MIN_POLL_BYTES, this.pollBytes / 2);
  }

  requestStarted(): void {
    this.inFlight++;
    if (this.inFlight > this.maxInFlight) this.maxInFlight = this.inFlight;
  }

  requestEnded(): void {
    this.inFlight--;
  }
}
