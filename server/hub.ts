// The server's shared state: sessions, the channel index, one-pass fan-out with one flush per tick,
// and the single sweep timer that drives heartbeats, poll holds and session expiry.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DownstreamConfig, DownstreamListener } from './downstream.ts';
import { Downstream } from './downstream.ts';
import type { Encoder } from './encodings.ts';
import { closeFrame } from './encodings.ts';
import type { ResolvedOptions } from './options.ts';
import { Session } from './session.ts';
import { isChannel } from './validate.ts';

export interface ServerInspection {
  sessions: number;
  openDownstream: number;
  perSession: {
    id: string;
    subscriptions: string[];
    seq: number;
    buffered: number;
    inFlight: number;
    maxInFlight: number;
    downstreamRequests: number;
  }[];
}

/** Runs an application hook without letting its failure reach the protocol. */
export function observe(options: ResolvedOptions, where: string, run: () => unknown): void {
  try {
    const result = run();
    if (result instanceof Promise) result.catch((error: unknown) => options.onError(error, where));
  } catch (error) {
    options.onError(error, where);
  }
}

export class Hub {
  readonly sessions = new Map<string, Session>();
  #options: ResolvedOptions;
  #downstreamConfig: DownstreamConfig;
  #channels = new Map<string, Set<Session>>();
  /** Sessions with frames appended since the last flush and an open downstream. */
  #dirty = new Set<Session>();
  #flushImmediate: NodeJS.Immediate | undefined;
  /** Open downstream responses, the sweep's heartbeat and hold work list. */
  #open = new Set<Downstream>();
  /** Ended by the server but their connection not yet gone: destroyed if they never drain. */
  #draining = new Set<Downstream>();
  #sweepTimer: NodeJS.Timeout | undefined;
  readonly sweepIntervalMs: number;
  #closing: Promise<void> | undefined;
  #listener: DownstreamListener = {
    ended: (downstream) => this.#ended(downstream),
    closed: (downstream) => this.#connectionGone(downstream),
  };
  #allClosed: (() => void) | undefined;

  constructor(options: ResolvedOptions) {
    this.#options = options;
    this.#downstreamConfig = {
      heartbeatMs: options.heartbeatMs,
      maxStreamBytes: options.maxStreamBytes,
      // Unsent bytes past what the resume buffer could hold are not worth keeping in memory: the
      // client is cut with `overflow` and resumes from the buffer (with a `gap` if it must).
      overflowBytes: Math.min(4 * options.maxStreamBytes, options.bufferMaxBytes),
    };
    const frameMs = options.transports.includes('iframe') ? options.frameHeartbeatMs : Infinity;
    const smallestMs = Math.min(options.heartbeatMs, frameMs, options.holdMs, options.sessionTimeoutMs);
    this.sweepIntervalMs = Math.min(1000, Math.max(20, Math.floor(smallestMs / 4)));
    // One timer for the whole server; unref'd so that it never keeps a process alive.
    this.#sweepTimer = setInterval(() => this.#sweep(), this.sweepIntervalMs);
    this.#sweepTimer.unref();
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  get openDownstreamCount(): number {
    return this.#open.size;
  }

  /** Whether a handshake may create a session now (a method: callers ask again after awaits). */
  acceptsSessions(): boolean {
    return !this.closed && this.sessions.size < this.#options.maxSessions;
  }

  createSession(principal: unknown, req: IncomingMessage): Session {
    // 128 random bits, URL-safe base64: 22 characters (section 4).
    const session = new Session(randomBytes(16).toString('base64url'), principal, this.#options, performance.now());
    this.sessions.set(session.id, session);
    observe(this.#options, 'onSessionOpen', () => this.#options.onSessionOpen?.({ session, req }));
    return session;
  }

  subscribe(session: Session, channel: string): void {
    if (session.closed) return;
    session.subscriptions.add(channel);
    let subscribers = this.#channels.get(channel);
    if (subscribers === undefined) this.#channels.set(channel, (subscribers = new Set()));
    subscribers.add(session);
  }

  unsubscribe(session: Session, channel: string): void {
    session.subscriptions.delete(channel);
    const subscribers = this.#channels.get(channel);
    subscribers?.delete(session);
    if (subscribers?.size === 0) this.#channels.delete(channel);
  }

  /** The public `publish`: checks what a programmer passed, then fans out. */
  publish(channel: string, data: unknown): number {
    if (typeof channel !== 'string' || !isChannel(channel)) {
      throw new TypeError('cometkit: publish needs a channel of 1-128 characters [A-Za-z0-9_.:/@~-]');
    }
    const dataJson = JSON.stringify(data) as string | undefined;
    if (dataJson === undefined) throw new TypeError('cometkit: publish needs JSON-serialisable data');
    return this.publishJson(channel, dataJson);
  }

  /**
   * Fan-out in one pass: the frame's tail is serialised once per publish; each subscriber only
   * adds its seq. Sessions with a connection are flushed together on the next tick, so a burst of
   * publishes in one tick reaches each connection as one write.
   */
  publishJson(channel: string, dataJson: string): number {
    const subscribers = this.#channels.get(channel);
    if (this.closed || subscribers === undefined) return 0;
    const sharedTail = `"channel":${JSON.stringify(channel)},"data":${dataJson}}`;
    const sharedTailBytes = Buffer.byteLength(sharedTail);
    for (const session of subscribers) {
      session.buffer.append(sharedTail, sharedTailBytes);
      if (session.downstream !== undefined) this.#dirty.add(session);
    }
    if (this.#dirty.size > 0 && this.#flushImmediate === undefined) {
      this.#flushImmediate = setImmediate(() => this.#flush());
    }
    return subscribers.size;
  }

  /**
   * Section 5.2 steps 2-5: replaces the session's other downstream response, trims the buffer to
   * `since`, and starts the new response.
   */
  openDownstream(session: Session, res: ServerResponse, encoder: Encoder, headers: Record<string, string>, since: number, heartbeatMs = this.#options.heartbeatMs): void {
    const nowMs = performance.now();
    // The older response is ended (and stops counting as in flight) before the newer one counts.
    const previous = session.downstream;
    if (previous instanceof Downstream) previous.end(closeFrame('replaced'), false, nowMs);
    session.downstreamRequests++;
    session.requestStarted();
    session.buffer.confirm(since);
    session.judgePoll(since);
    const config = heartbeatMs === this.#downstreamConfig.heartbeatMs ? this.#downstreamConfig : { ...this.#downstreamConfig, heartbeatMs };
    const downstream = new Downstream(session, res, encoder, headers, since, nowMs, config, this.#listener);
    session.downstream = downstream;
    this.#open.add(downstream);
    downstream.start(nowMs);
    // A client that left before this point never emits 'close' again: treat it as gone now.
    if (res.destroyed) this.#connectionGone(downstream);
  }

  /** The server ended the response, or the client left while it was open. */
  #ended(downstream: Downstream): void {
    if (!this.#open.delete(downstream)) return;
    const session = downstream.session;
    session.requestEnded();
    if (session.downstream === downstream) {
      session.downstream = undefined;
      session.idleSinceMs = performance.now();
      this.#dirty.delete(session);
    }
    if (downstream.state === 'ended') this.#draining.add(downstream);
  }

  /** The response's connection is gone. */
  #connectionGone(downstream: Downstream): void {
    this.#ended(downstream);
    this.#draining.delete(downstream);
    if (this.#allClosed !== undefined && this.#open.size === 0 && this.#draining.size === 0) this.#allClosed();
  }

  dropSession(session: Session, reason: 'expired' | 'shutdown'): void {
    if (session.closed) return;
    session.closed = true;
    this.sessions.delete(session.id);
    this.#dirty.delete(session);
    const subscriptions = [...session.subscriptions];
    for (const channel of subscriptions) {
      this.unsubscribe(session, channel);
      observe(this.#options, 'onUnsubscribe', () =>
        this.#options.onUnsubscribe?.({ session, channel, req: undefined, reason: 'session-close' }));
    }
    observe(this.#options, 'onSessionClose', () => this.#options.onSessionClose?.({ session, reason, subscriptions }));
  }

  /**
   * Ends every open response with `close` `shutdown`, stops the timer and drops the sessions.
   * Resolves once every response's connection is done; a client that does not read its last bytes
   * within a second is cut, so that close() always settles.
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    clearInterval(this.#sweepTimer);
    this.#sweepTimer = undefined;
    if (this.#flushImmediate !== undefined) clearImmediate(this.#flushImmediate);
    this.#flushImmediate = undefined;
    const nowMs = performance.now();
    for (const downstream of [...this.#open]) {
      downstream.end(closeFrame('shutdown', this.#options.retryMs), true, nowMs);
    }
    for (const session of [...this.sessions.values()]) this.dropSession(session, 'shutdown');
    this.#closing = new Promise<void>((resolve) => {
      if (this.#open.size === 0 && this.#draining.size === 0) return resolve();
      const cutTimer = setTimeout(() => {
        for (const downstream of [...this.#draining, ...this.#open]) downstream.destroy();
      }, 1000);
      cutTimer.unref();
      this.#allClosed = () => {
        clearTimeout(cutTimer);
        this.#allClosed = undefined;
        resolve();
      };
    });
    return this.#closing;
  }

  inspect(): ServerInspection {
    return {
      sessions: this.sessions.size,
      openDownstream: this.#open.size,
      perSession: [...this.sessions.values()].map((session) => ({
        id: session.id,
        subscriptions: [...session.subscriptions],
        seq: session.seq,
        buffered: session.buffer.size,
        inFlight: session.inFlight,
        maxInFlight: session.maxInFlight,
        downstreamRequests: session.downstreamRequests,
      })),
    };
  }

  #flush(): void {
    this.#flushImmediate = undefined;
    const sessions = [...this.#dirty];
    this.#dirty.clear();
    const nowMs = performance.now();
    for (const session of sessions) {
      const downstream = session.downstream;
      if (downstream instanceof Downstream) downstream.flush(nowMs);
    }
  }

  /**
   * The one timer. Deadlines are brought forward by one interval so that a heartbeat or a poll
   * answer is never later than heartbeatMs or holdMs, whatever the sweep's phase.
   */
  #sweep(): void {
    const nowMs = performance.now();
    const { heartbeatMs, holdMs, sessionTimeoutMs } = this.#options;
    for (const downstream of [...this.#open]) {
      if (downstream.streaming) {
        if (nowMs - downstream.lastWriteMs >= downstream.heartbeatMs - this.sweepIntervalMs) downstream.heartbeat(nowMs);
      } else if (nowMs - downstream.openedAtMs >= holdMs - this.sweepIntervalMs) {
        downstream.expireHold(nowMs);
      }
    }
    for (const downstream of this.#draining) {
      if (nowMs - downstream.endedAtMs >= Math.max(heartbeatMs, 1000)) downstream.destroy();
    }
    for (const session of this.sessions.values()) {
      // Section 8.4: no open downstream request for sessionTimeoutMs. A send in progress also
      // keeps it, so that an applied message is never answered `unknown-session`.
      if (session.downstream === undefined && session.inFlight === 0 && nowMs - session.idleSinceMs >= sessionTimeoutMs) {
        this.dropSession(session, 'expired');
      }
    }
  }
}
