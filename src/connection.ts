// One connection to one endpoint (PROTOCOL.md): the handshake, the downstream loop with resume from
// `since`, reconnects, the heartbeat watchdog and the upstream outbox. Its lifecycle is one explicit
// state machine; every asynchronous continuation first checks that it still belongs to the current
// request (`run`) and that the connection is not closed. At most two requests are in flight: one
// downstream (or the handshake) and one upstream send; the old downstream request is always ended
// before a new one opens.
import { backoffDelay } from './backoff.ts';
import { CometError, isRefusal, isRetried, type CometErrorType } from './errors.ts';
import { createNegotiator, isScriptTransport } from './negotiator.ts';
import { createOutbox, type OutboxItem } from './outbox.ts';
import { messageBody, originOf, resourceUrl, toFrame, toHandshake, type CloseFrame, type Handshake, type UpstreamMessage } from './protocol.ts';
import type { TimerHandle } from './platform.ts';
import type { CometState, Connection, ConnectionHost, ConnectionOptions, OneShot, StateReason } from './types.ts';
import { createWatchdog } from './watchdog.ts';
import type { OneShotResult } from '../transports/request.ts';
import type { Transport, TransportExchange } from '../transports/types.ts';

export type { CometState, StateReason, GapEvent, ConnectionEvents, ReconnectPolicy, ConnectionOptions, OneShot, ConnectionHost, Connection } from './types.ts';

interface Failure {
  type: CometErrorType;
  detail: string;
  status?: number | undefined;
}

/** The protocol's error body that came with a refusal (§9), if any: its code, and `retryMs` for 429 and 503. */
export const errorBody = (result: OneShotResult): { code?: string; retryMs?: number } | undefined =>
  (result.ok ? undefined : result.value) as { code?: string; retryMs?: number } | undefined;

export function createConnection(endpoint: string, options: ConnectionOptions, io: OneShot, host: ConnectionHost): Connection {
  const { platform, logger: log, reconnect: policy } = options;
  const window = platform.window;
  const pageOrigin = window?.location.origin.toLowerCase();
  const origin = originOf(endpoint) ?? pageOrigin ?? '';
  const crossOrigin = pageOrigin !== undefined && origin !== pageOrigin;
  // Without CORS a cross-origin page reaches the endpoint by script only (§10): so when only script
  // transports are wanted, or (see handshake) when an XHR handshake fails below HTTP.
  let upstream: 'xhr' | 'script' = crossOrigin && (!platform.XMLHttpRequest || options.transports.every(isScriptTransport)) ? 'script' : 'xhr';
  const request = { withCredentials: options.withCredentials, headers: options.headers };

  let state: CometState = 'connecting';
  let session: Handshake | undefined;
  let since = 0;
  let heartbeatMs = 0;
  let retryFloorMs = 0;
  /** Counts downstream requests; a continuation of an older one is stale and does nothing. */
  let run = 0;
  let handshaking: { abort(): void } | undefined;
  let exchange: TransportExchange | undefined;
  let retryTimer: TimerHandle;
  /** Consecutive failures, and when the first of them happened. */
  let attempts = 0;
  let failingSince = 0;
  let cacheBuster = 0;

  const watchdog = createWatchdog(platform, () => fail({
    type: 'timeout',
    detail: negotiator.confirmed() ? 'silent stream' : 'no first frame',
  }, negotiator.current()));
  const { arm, check } = watchdog;
  const negotiator = createNegotiator(platform, origin, options.transports, options.reprobeMs,
    (name, reason) => host.emit('transport', { name, reason }), log);
  const bust = () => `${platform.now().toString(36)}${cacheBuster++}`;
  const delay = (attempt: number, floorMs = retryFloorMs) => backoffDelay(attempt, policy, () => platform.random(), floorMs);
  const tolerance = () => options.heartbeatToleranceMs ?? options.heartbeatToleranceFactor * heartbeatMs;
  const live = (mine: number) => mine === run && state !== 'closed';
  /** Starts a one-shot request; one that cannot even start (no XHR, no document) fails like any other. */
  const oneShot = (start: () => { abort(): void }, done: (result: OneShotResult) => void) => {
    try {
      return start();
    } catch (error) {
      done({ ok: false, failure: { type: 'unsupported', detail: String(error) } });
      return { abort: () => undefined };
    }
  };
  const sendUrl = (id: string) => resourceUrl(endpoint, 'send', upstream === 'xhr' ? { session: id } : { session: id, t: bust() });

  const outbox = createOutbox(platform, {
    limits: () => session && {
      maxBatchMessages: session.maxBatchMessages,
      maxBodyBytes: session.maxBodyBytes,
      // 80: room for the `&callback=NAME` that scriptJson adds.
      urlLength: upstream === 'xhr' ? 0 : sendUrl(session.session).length + 80,
    },
    send(messages, done) {
      const id = session?.session ?? '';
      return oneShot(() => upstream === 'xhr'
        ? io.xhrJson(platform, Object.assign({
          url: sendUrl(id), method: 'POST' as const, body: `{"messages":${messages}}`,
          // text/plain keeps the POST a CORS simple request: no preflight (§6.2).
          contentType: 'text/plain;charset=UTF-8', timeoutMs: options.sendTimeoutMs,
        }, request), done)
        : io.scriptJson(platform, `${sendUrl(id)}&messages=${encodeURIComponent(messages)}`, options.sendTimeoutMs, done), done);
    },
    retryDelayMs: delay,
    expired,
    report: (error) => host.emit('error', error),
  });

  function transition(next: CometState, reason: StateReason) {
    if (state === next || state === 'closed') return;
    state = next;
    log(next, reason);
    host.emit('statechange', { state: next, reason });
    if (next === 'closed') host.emit('close', { reason });
  }

  /** Ends the downstream request (or handshake) and its timers; later continuations of it are stale. */
  function stop() {
    run++;
    handshaking?.abort();
    exchange?.close();
    handshaking = exchange = undefined;
    platform.clearTimeout(retryTimer);
    retryTimer = undefined;
    watchdog.stop();
  }

  function connect() {
    if (session) open();
    else handshake();
  }

  function handshake() {
    stop();
    outbox.pause();
    const mine = run;
    const url = resourceUrl(endpoint, 'handshake', { v: 1, t: bust() });
    const answer = (result: OneShotResult) => {
      if (!live(mine)) return;
      handshaking = undefined;
      const answered = result.ok ? toHandshake(result.value) : undefined;
      if (!answered) {
        if (!result.ok && result.failure.type === 'network' && crossOrigin && upstream === 'xhr' && options.transports.some(isScriptTransport)) {
          // Most likely no CORS grant for this page: talk to the endpoint by script from now on.
          log('upstream', (upstream = 'script'));
          handshake();
        } else fail(result.ok ? { type: 'protocol', detail: 'not a handshake' } : result.failure, undefined, errorBody(result)?.retryMs);
        return;
      }
      session = answered;
      since = answered.seq;
      heartbeatMs = answered.heartbeatMs;
      retryFloorMs = answered.retryMs;
      negotiator.start(answered.transports, upstream === 'script');
      outbox.renew(host.channels().map((channel) => item('subscribe', channel, (error) => {
        if (error) host.emit('error', error);
      })));
      const transport = negotiator.current();
      if (!transport) {
        fail({ type: 'unsupported', detail: 'no transport offered and supported' });
        return;
      }
      // A poll holds until there is data: for polling, the server's answer is proof enough.
      if (!transport.streaming) transition('open', 'handshake');
      open();
    };
    const pending = oneShot(() => upstream === 'xhr'
      ? io.xhrJson(platform, Object.assign({ url, method: 'POST' as const, timeoutMs: options.sendTimeoutMs }, request), answer)
      : io.scriptJson(platform, url, options.sendTimeoutMs, answer), answer);
    if (mine === run) handshaking = pending;
  }

  /** Opens the downstream request on the current transport, at `since`. */
  function open() {
    stop();
    const transport = negotiator.current();
    if (!transport || !session) return;
    const mine = run;
    arm(transport.streaming && !negotiator.confirmed() ? options.probeTimeoutMs : transport.streaming ? tolerance() : session.holdMs + tolerance());
    log('open', transport.name);
    try {
      const opened = transport.open(platform, Object.assign({ url: resourceUrl(endpoint, transport.resource, { session: session.session, since, t: bust() }) }, request), {
        onValues: (values) => {
          if (live(mine)) receive(values, transport, mine);
        },
        onEnd: (failure) => {
          if (!live(mine)) return;
          exchange = undefined;
          if (failure || transport.streaming) {
            fail(failure ?? { type: 'network', detail: 'the stream ended without close' }, transport);
            return;
          }
          // A poll answered (§5.3): the next one goes at once, with the new since.
          proven();
          planned();
        },
      });
      if (mine === run) exchange = opened;
      else opened.close();
    } catch (error) {
      fail({ type: 'unsupported', detail: String(error) }, transport);
    }
  }

  /** A new request that follows a planned end (a poll's answer, a recycle): no backoff. */
  function planned() {
    negotiator.next();
    open();
  }

  function proven() {
    negotiator.confirm();
    attempts = 0;
    transition('open', 'connected');
  }

  function receive(values: unknown[], transport: Transport, mine: number) {
    if (transport.streaming && negotiator.confirmed()) arm(tolerance());
    for (const value of values) {
      // A frame may end this request (close) or the application may close the client.
      if (!live(mine)) return;
      const frame = toFrame(value);
      if (!frame) {
        fail({ type: 'malformed', detail: 'not a frame' }, transport);
        return;
      }
      if (frame.type === 'open') {
        heartbeatMs = frame.heartbeatMs;
        proven();
        arm(tolerance());
      } else if (frame.type === 'msg') {
        // §5.1: a seq at or below the highest processed is a duplicate.
        if (frame.seq > since) {
          since = frame.seq;
          host.deliver(frame);
        }
      } else if (frame.type === 'gap') {
        if (frame.to > since) {
          since = frame.to;
          host.emit('gap', { from: frame.from, to: frame.to });
        }
      } else if (frame.type === 'close') {
        closed(frame);
      }
    }
  }

  /** §8.1: what a `close` frame asks for. */
  function closed(frame: CloseFrame) {
    log('close', frame.code);
    if (frame.reconnect === 'now') planned();
    else if (frame.reconnect === 'handshake') expired();
    else if (frame.reconnect === 'backoff') retry('server-close', frame.retryMs);
    else {
      // 'none': this request is stale, a newer one serves the session (§8.3). Drop it without
      // reconnecting; the watchdog stays armed, so if nothing serves us after all, we come back.
      run++;
      exchange?.close();
      exchange = undefined;
    }
  }

  /** The session is gone (§8.1 `handshake`): the lost range is a gap; handshake and resubscribe. */
  function expired() {
    if (!session) return;
    session = undefined;
    host.emit('gap', { reason: 'unknown-session' });
    retry('unknown-session');
  }

  const canRetry = () => attempts < policy.maxAttempts && (!attempts || platform.now() - failingSince < policy.maxElapsedMs);

  function fail(failure: Failure, transport?: Transport, floorMs?: number) {
    const type = !transport && isRefusal(failure.status) ? 'handshake-refused' : failure.type;
    // Before a transport proved itself, a failure other than a network one hands over to the next
    // candidate at once, in the same session, from the same since: nothing is lost.
    const fallback = !!transport && type !== 'network' && !negotiator.confirmed() &&
      negotiator.fail(type !== 'http-status' && type !== 'protocol');
    const willRetry = fallback || (isRetried(type) && canRetry());
    host.emit('error', new CometError(type, failure.detail, {
      transport: transport?.name ?? null,
      status: failure.status,
      willRetry,
      // One-shot requests give the server's error code as the detail (transports/request.ts).
      code: failure.status ? failure.detail : undefined,
    }));
    if (fallback) open();
    else if (willRetry) retry(type, floorMs);
    else shutdown(type === 'handshake-refused' ? type : 'gave-up');
  }

  function retry(reason: StateReason, floorMs?: number) {
    if (!canRetry()) {
      shutdown('gave-up');
      return;
    }
    stop();
    if (!attempts) failingSince = platform.now();
    transition('reconnecting', reason);
    const waitMs = delay(attempts++, floorMs);
    log('retry', waitMs);
    retryTimer = platform.setTimeout(connect, waitMs);
  }

  // Back online, or back from the back-forward cache: reconnect at once instead of waiting out a
  // backoff; a page restored from that cache had its connections cut.
  const wake = (event: Event) => {
    if (state === 'closed') return;
    if (retryTimer !== undefined || (event as PageTransitionEvent).persisted) connect();
    else check();
  };
  window?.addEventListener('online', wake);
  window?.addEventListener('pageshow', wake);
  platform.document?.addEventListener('visibilitychange', check);

  function shutdown(reason: StateReason) {
    transition('closed', reason);
    stop();
    outbox.close(new CometError('closed', reason));
    window?.removeEventListener('online', wake);
    window?.removeEventListener('pageshow', wake);
    platform.document?.removeEventListener('visibilitychange', check);
  }

  function item(type: UpstreamMessage['type'], channel: string, settle: OutboxItem['settle'], data?: unknown): OutboxItem {
    return { type, body: messageBody(type, channel, data), settle };
  }

  handshake();

  return {
    get state() {
      return state;
    },
    get transport() {
      return negotiator.current()?.name ?? null;
    },
    send(type, channel, data) {
      return new Promise<void>((resolve, reject) => {
        if (state === 'closed') throw new CometError('closed', 'the client is closed');
        // messageBody throws on data that cannot be sent: the promise rejects with it as the cause.
        let body: OutboxItem;
        try {
          body = item(type, channel, (error) => error ? reject(error) : resolve(), data);
        } catch (cause) {
          throw new CometError('publish-refused', 'data not sendable', { code: 'bad-data', cause });
        }
        outbox.push(body);
      });
    },
    close: () => shutdown('client-close'),
  };
}
