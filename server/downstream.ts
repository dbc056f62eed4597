// One downstream response: writes batches in its encoding, heartbeats, recycles after
// maxStreamBytes, and ends with a `close` frame (PROTOCOL.md sections 5, 7 and 8).
import type { ServerResponse } from 'node:http';
import type { Encoder, OutFrame } from './encodings.ts';
import { HEARTBEAT_FRAME, closeFrame, openFrame } from './encodings.ts';
import { MIN_POLL_BYTES, type DownstreamHandle, type Session } from './session.ts';

export interface DownstreamConfig {
  readonly heartbeatMs: number;
  readonly maxStreamBytes: number;
  /** Unsent bytes queued in the response beyond which the client counts as not draining. */
  readonly overflowBytes: number;
}

/** Told when the response is ended by the server (`ended`) and when its connection is gone (`closed`). */
export interface DownstreamListener {
  ended(downstream: Downstream): void;
  closed(downstream: Downstream): void;
}

type DownstreamState = 'open' | 'ended' | 'closed';

/**
 * The most message bytes in one multipart part, iframe script, SSE event or line. An intermediary
 * that cuts long answers (some cap a response's size) would otherwise see the same oversized
 * backlog cut on every retry, and the client would never get past it. Poll answers adapt from this
 * bound up (Session.pollBytes).
 */
export const MAX_BATCH_BYTES = MIN_POLL_BYTES;

export class Downstream implements DownstreamHandle {
  readonly session: Session;
  readonly streaming: boolean;
  readonly openedAtMs: number;
  /** This response's heartbeat interval (its `open` frame says it). */
  readonly heartbeatMs: number;
  #res: ServerResponse;
  #encoder: Encoder;
  #headers: Readonly<Record<string, string>>;
  #config: DownstreamConfig;
  #listener: DownstreamListener;
  #state: DownstreamState = 'open';
  /** The `since` the request came with. */
  #sinceSeq: number;
  #sentThroughSeq: number;
  #bytesWritten = 0;
  #lastWriteMs: number;
  #endedAtMs = 0;

  constructor(
    session: Session,
    res: ServerResponse,
    encoder: Encoder,
    headers: Readonly<Record<string, string>>,
    sinceSeq: number,
    nowMs: number,
    config: DownstreamConfig,
    listener: DownstreamListener,
  ) {
    this.session = session;
    this.streaming = encoder.streaming;
    this.openedAtMs = nowMs;
    this.heartbeatMs = config.heartbeatMs;
    this.#res = res;
    this.#encoder = encoder;
    this.#headers = headers;
    this.#config = config;
    this.#listener = listener;
    this.#sinceSeq = sinceSeq;
    this.#sentThroughSeq = sinceSeq;
    this.#lastWriteMs = nowMs;
    // 'close' fires for a finished response and for a client that went away at any stage.
    res.once('close', () => this.#onClose());
  }

  get state(): DownstreamState {
    return this.#state;
  }

  get lastWriteMs(): number {
    return this.#lastWriteMs;
  }

  get endedAtMs(): number {
    return this.#endedAtMs;
  }

  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  /**
   * Section 5.2 steps 4-5. A stream starts with its head, `open`, and what the buffer owes, in one
   * write. A poll is answered at once when anything is owed, and otherwise held.
   */
  start(nowMs: number): void {
    const pending = this.#pending();
    this.#sentThroughSeq = pending.throughSeq;
    if (!this.streaming) {
      if (pending.frames.length > 0) this.#answer(pending.frames, nowMs);
      return;
    }
    this.#res.writeHead(200, this.#headers);
    // Small frames must leave at once rather than wait for Nagle's algorithm.
    this.#res.socket?.setNoDelay(true);
    // The first write never recycles without a message in it: a head larger than a (misconfigured)
    // maxStreamBytes would otherwise make every reconnect end at once, in a tight loop.
    const mayRecycle = pending.frames.length > 0;
    this.#send([openFrame(this.session.seq, this.#config.heartbeatMs), ...pending.frames], nowMs, this.#encoder.head, mayRecycle);
  }

  /** Writes every frame the buffer owes this connection, as one write. */
  flush(nowMs: number): void {
    if (this.#state !== 'open') return;
    const pending = this.#pending();
    if (pending.frames.length === 0) return;
    if (this.#overflowing(nowMs)) return;
    this.#sentThroughSeq = pending.throughSeq;
    if (this.streaming) this.#send(pending.frames, nowMs);
    else this.#answer(pending.frames, nowMs);
  }

  /** Section 7: an idle stream gets an `hb` frame. */
  heartbeat(nowMs: number): void {
    if (this.#state !== 'open' || !this.streaming || this.#overflowing(nowMs)) return;
    this.#send([HEARTBEAT_FRAME], nowMs);
  }

  /**
   * Section 7.1: writes a client's echo token at once, as a batch of its own, on a stream; false
   * when this response cannot carry it (a poll, an ended or overflowing stream).
   */
  echo(frame: OutFrame, nowMs: number): boolean {
    if (this.#state !== 'open' || !this.streaming || this.#overflowing(nowMs)) return false;
    this.#send([frame], nowMs);
    return true;
  }

  /** Section 5.3, `poll`: a held request with nothing to send is answered `[]` after holdMs. */
  expireHold(nowMs: number): void {
    if (this.#state === 'open' && !this.streaming) this.#answer([], nowMs);
  }

  /**
   * Ends the response with `close` as its last frame. With `includePending`, what the buffer owes
   * goes out first (shutdown); a replaced response gets only the close, its successor has the rest.
   */
  end(close: OutFrame, includePending: boolean, nowMs: number): void {
    if (this.#state !== 'open') return;
    const frames: OutFrame[] = [];
    if (includePending) {
      const pending = this.session.buffer.pendingAfter(this.#sentThroughSeq);
      this.#sentThroughSeq = pending.throughSeq;
      frames.push(...pending.frames);
    }
    frames.push(close);
    if (this.streaming) this.#finish(this.#encoder.batch(frames) + this.#encoder.tail, nowMs);
    else this.#answer(frames, nowMs);
  }

  /** Drops a connection that was ended but never drained (its client stopped reading). */
  destroy(): void {
    this.#res.destroy();
  }

  /** True when the response is ended because the client does not drain: memory must not grow. */
  #overflowing(nowMs: number): boolean {
    if (this.#res.writableLength <= this.#config.overflowBytes) return false;
    this.#finish(this.#encoder.batch([closeFrame('overflow')]) + this.#encoder.tail, nowMs);
    return true;
  }

  /** What the buffer owes: a poll takes its session's poll budget, a stream all of it. */
  #pending() {
    return this.session.buffer.pendingAfter(this.#sentThroughSeq, this.streaming ? Infinity : this.session.pollBytes);
  }

  /**
   * Writes the frames (after `prefix`) as one write, in batches of at most MAX_BATCH_BYTES; past
   * maxStreamBytes the same write recycles the stream.
   */
  #send(frames: readonly OutFrame[], nowMs: number, prefix = '', mayRecycle = true): void {
    let text = prefix;
    let batch: OutFrame[] = [];
    let batchBytes = 0;
    for (const frame of frames) {
      if (batch.length > 0 && batchBytes + frame.json.length > MAX_BATCH_BYTES) {
        text += this.#encoder.batch(batch);
        batch = [];
        batchBytes = 0;
      }
      batch.push(frame);
      batchBytes += frame.json.length;
    }
    text += this.#encoder.batch(batch);
    const bytes = Buffer.byteLength(text);
    if (mayRecycle && this.#bytesWritten + bytes >= this.#config.maxStreamBytes) {
      // Section 7: finish the batch in hand, then `close` `recycle`, then end.
      this.#finish(text + this.#encoder.batch([closeFrame('recycle')]) + this.#encoder.tail, nowMs);
      return;
    }
    this.#bytesWritten += bytes;
    this.#lastWriteMs = nowMs;
    if (!this.#res.destroyed) this.#res.write(text);
  }

  /** A polling answer: the whole body at once, with its length. */
  #answer(frames: readonly OutFrame[], nowMs: number): void {
    if (this.#sentThroughSeq > this.#sinceSeq) this.session.polled(this.#sentThroughSeq);
    const body = this.#encoder.head + this.#encoder.batch(frames) + this.#encoder.tail;
    if (!this.#res.headersSent && !this.#res.destroyed) {
      this.#res.writeHead(200, { ...this.#headers, 'Content-Length': String(Buffer.byteLength(body)) });
    }
    this.#finish(body, nowMs);
  }

  #finish(text: string, nowMs: number): void {
    this.#bytesWritten += Buffer.byteLength(text);
    this.#lastWriteMs = nowMs;
    this.#endedAtMs = nowMs;
    this.#state = 'ended';
    if (!this.#res.destroyed) this.#res.end(text);
    this.#listener.ended(this);
  }

  #onClose(): void {
    const wasOpen = this.#state === 'open';
    this.#state = 'closed';
    if (wasOpen) this.#listener.ended(this);
    this.#listener.closed(this);
  }
}
