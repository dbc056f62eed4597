// One connection to one endpoint (PROTOCOL.md): the handshake, the downstream loop with resume from
// `since`, reconnects, the heartbeat watchdog and the upstream outbox. Its lifecycle is one explicit
// state machine; every asynchronous continuation first checks that it still belongs to the current
// request (`run`) and that the connection is not closed. At most two requests are in flight: one
// downstream (or the handshake) and one upstream send; the old downstream request is always ended
// before a new one opens.
import { backoffDelay } from './backoff.ts';
import { CometError, closedError, isRefusal, isRetried } from './errors.ts';
import { createOutbox, type OutboxItem } from './outbox.ts';
import { messageBody, originOf, resourceUrl, retryAfter, toFrame, toHandshake, type CloseFrame, type Handshake } from './protocol.ts';
import type { TimerHandle } from './platform.ts';
import type { CometState, Connection, ConnectionHost, ConnectionOptions, OneShot, StateReason } from './types.ts';
import { createWatchdog } from './watchdog.ts';
import type { OneShotResult } from '../transports/request.ts';
import type { Transport, TransportExchange, TransportFailure } from '../transports/types.ts';

export type { CometState, StateReason, GapEvent, ConnectionEvents, ReconnectPolicy, ConnectionOptions, OneShot, ConnectionHost, Connection } from './types.ts';

/** A failure of a transport, a one-shot request or the protocol layer's own checks. */
type Failure = Omit<TransportFailure, 'type'> & { type: CometError['type'] };

export function createConnection(endpoint: string, options: ConnectionOptions, io: OneShot, host: ConnectionHost): Connection {
  const { platform, logger: log, reconnect: policy, transports, withCredentials, headers, sendTimeoutMs: timeoutMs } = options;
  const { window, document } = platform;
  const { emit } = host;
  const pageOrigin = window?.location.origin.toLowerCase();
  const origin = originOf(endpoint) ?? pageOrigin ?? '';
  const crossOrigin = pageOrigin !== undefined && origin != pageOrigin;
  /** Transports that reach a cross-origin endpoint without CORS (§10) bring the script upstream. */
  const isScript = (transport: Transport) => !!transport.script;
  // Without CORS a cross-origin page reaches the endpoint by script only (§10): so when only script
  // transports are wanted, or (see handshake) when an XHR handshake fails below HTTP.
  let byScript = crossOrigin && transports.some(isScript) && (!platform.XMLHttpRequest || transports.every(isScript));

  let state: CometState = 'connecting';
  let session: Handshake | undefined;
  let since = 0;
  let heartbeatMs = 0;
  let retryFloorMs = 0;
  /** Counts downstream requests; a continuation of an older one is stale and does nothing. */
  let run = 0;
  /** The downstream request, or the handshake, in flight. */
  let down: TransportExchange | undefined;
  let retryTimer: TimerHandle;
  /** Consecutive failures, and when the first of them happened. */
  let attempts = 0;
  let failingSince = 0;
  let cacheBuster = 0;

  const negotiator = options.negotiator(platform, origin, transports, options.reprobeMs,
    (name, reason) => { emit('transport', { name, reason }); }, log);
  const watchdog = createWatchdog(platform, () => {
    fail({ type: 'timeout', detail: negotiator.confirmed() ? 'silent stream' : 'no first frame' }, negotiator.current());
  });
  const { arm, check } = watchdog;
  const bust = () => `${platform.now().toString(36)}${cacheBuster++}`;
  const delay = (attempt: number, floorMs = retryFloorMs) => backoffDelay(attempt, policy, () => platform.random(), floorMs);
  const tolerance = () => options.heartbeatToleranceMs ?? options.heartbeatToleranceFactor * heartbeatMs;
  const live = (mine: number) => mine == run && state != 'closed';
  const sendUrl = (id = session?.session ?? '') => resourceUrl(endpoint, 'send', byScript ? { session: id, t: bust() } : { session: id });

  /**
   * A one-shot request (the handshake, or a send of the JSON array `messages`) by XHR or by
   * script, whichever reaches the endpoint. One that cannot even start fails like any other.
   */
  function oneShot(url: string, done: (result: OneShotResult) => void, messages?: string) {
    const script = byScript && io.scriptJson;
    try {
      return script
        ? script(platform, messages ? `${url}&messages=${encodeURIComponent(messages)}` : url, timeoutMs, done)
        : io.xhrJson(platform, {
          url, method: 'POST', body: messages && `{"messages":${messages}}`,
          // text/plain keeps the POST a CORS simple request: no preflight (§6.2).
          contentType: messages && 'text/plain;charset=UTF-8', timeoutMs, withCredentials, headers,
        }, done);
    } catch (error) {
      done({ ok: false, failure: { type: 'unsupported', detail: String(error) } });
      return { abort: () => undefined };
    }
  }

  const outbox = createOutbox(platform, {
    // 80: room for the `&callback=NAME` that scriptJson adds.
    limits: () => session && { ...session, urlLength: byScript ? sendUrl().length + 80 : 0 },
    send: (messages, done) => oneShot(sendUrl(), done, messages),
    retryDelayMs: delay,
    expired,
    report: (error) => { emit('error', error); },
  });

  function transition(next: CometState, reason: StateReason) {
    if (state == next || state == 'closed') return;
    state = next;
    log(next, reason);
    emit('statechange', { state: next, reason });
    if (next == 'closed') emit('close', { reason });
  }

  /** Ends the downstream request (or handshake) and its timers; later continuations of it are stale. */
  function stop() {
    run++;
    down?.close();
    down = undefined;
    platform.clearTimeout(retryTimer);
    retryTimer = undefined;
    watchdog.stop();
  }

  const connect = () => { (session ? open : handshake)(); };

  function handshake() {
    stop();
    outbox.pause();
    const mine = run;
    const request = oneShot(resourceUrl(endpoint, 'handshake', { v: 1, t: bust() }), (result) => {
      if (!live(mine)) return;
      down = undefined;
      const answered = result.ok ? toHandshake(result.value) : undefined;
      if (!answered) {
        if (!result.ok && result.failure.type == 'network' && crossOrigin && !byScript && transports.some(isScript)) {
          // Most likely no CORS grant for this page: talk to the endpoint by script from now on.
          log('upstream', 'script');
          byScript = true;
          handshake();
        } else fail(result.ok ? { type: 'protocol', detail: 'not a handshake' } : result.failure, undefined, retryAfter(result));
        return;
      }
      session = answered;
      since = answered.seq;
      heartbeatMs = answered.heartbeatMs;
      retryFloorMs = answered.retryMs;
      negotiator.start(answered.transports, byScript);
      outbox.renew(host.channels().map((channel) => item('subscribe', channel, (error) => {
        if (error) emit('error', error);
      })));
      const transport = negotiator.current();
      if (!transport) return fail({ type: 'unsupported', detail: 'no transport offered and supported' });
      // A poll holds until there is data: for polling, the server's answer is proof enough.
      if (!transport.streaming) transition('open', 'handshake');
      open();
    });
    if (mine == run) down = { close: () => { request.abort(); } };
  }

  /** Opens the downstream request on the current transport, at `since`. */
  function open() {
    stop();
    const transport = negotiator.current();
    if (!transport || !session) return;
    const mine = run;
    const { streaming } = transport;
    arm(streaming && !negotiator.confirmed() ? options.probeTimeoutMs : tolerance() + (streaming ? 0 : session.holdMs));
    log('open', transport.name);
    try {
      const opened = transport.open(platform, {
        url: resourceUrl(endpoint, transport.resource, { session: session.session, since, t: bust() }), withCredentials, headers,
      }, {
        onValues: (values) => {
          if (live(mine)) receive(values, transport, mine);
        },
        onEnd: (failure) => {
          if (!live(mine)) return;
          down = undefined;
          if (failure || streaming) return fail(failure ?? { type: 'network', detail: 'ended without close' }, transport);
          // A poll answered (§5.3): the next one goes at once, with the new since.
          proven();
          planned();
        },
      });
      if (mine == run) down = opened;
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
      if (!frame) return fail({ type: 'malformed', detail: 'not a frame' }, transport);
      if (frame.type == 'open') {
        heartbeatMs = frame.heartbeatMs;
        proven();
        arm(tolerance());
      } else if (frame.type == 'msg') {
        // §5.1: a seq at or below the highest processed is a duplicate.
        if (frame.seq > since) {
          since = frame.seq;
          host.deliver(frame);
        }
      } else if (frame.type == 'gap') {
        if (frame.to > since) {
          since = frame.to;
          emit('gap', { from: frame.from, to: frame.to });
        }
      } else if (frame.type == 'close') closed(frame);
    }
  }

  /** §8.1: what a `close` frame asks for. */
  function closed({ code, reconnect, retryMs }: CloseFrame) {
    log('close', code);
    if (reconnect == 'now') planned();
    else if (reconnect == 'handshake') expired();
    else if (reconnect == 'backoff') retry('server-close', retryMs);
    else {
      // 'none': this request is stale, a newer one serves the session (§8.3). Drop it without
      // reconnecting; the watchdog stays armed, so if nothing serves us after all, we come back.
      run++;
      down?.close();
      down = undefined;
    }
  }

  /** The session is gone (§8.1 `handshake`): the lost range is a gap; handshake and resubscribe. */
  function expired() {
    if (!session) return;
    session = undefined;
    emit('gap', { reason: 'unknown-session' });
    retry('unknown-session');
  }

  const canRetry = () => attempts < policy.maxAttempts && (!attempts || platform.now() - failingSince < policy.maxElapsedMs);

  function fail({ type, detail, status }: Failure, transport?: Transport, floorMs?: number) {
    if (!transport && isRefusal(status)) type = 'handshake-refused';
    // Before a transport proved itself, a failure other than a network one hands over to the next
    // candidate at once, in the same session, from the same since: nothing is lost.
    const fallback = !!transport && type != 'network' && !negotiator.confirmed() &&
      negotiator.fail(type != 'http-status' && type != 'protocol');
    const willRetry = fallback || (isRetried(type) && canRetry());
    // One-shot requests give the server's error code as the detail (transports/request.ts).
    emit('error', new CometError(type, detail, { transport: transport?.name ?? null, status, willRetry, code: status ? detail : undefined }));
    if (fallback) open();
    else if (willRetry) retry(type, floorMs);
    else shutdown(type == 'handshake-refused' ? type : 'gave-up');
  }

  function retry(reason: StateReason, floorMs?: number) {
    if (!canRetry()) return shutdown('gave-up');
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
    if (state == 'closed') return;
    if (retryTimer !== undefined || (event as PageTransitionEvent).persisted) connect();
    else check();
  };
  const listen = (method: 'addEventListener' | 'removeEventListener') => {
    window?.[method]('online', wake);
    window?.[method]('pageshow', wake);
    document?.[method]('visibilitychange', check);
  };
  listen('addEventListener');

  function shutdown(reason: StateReason) {
    transition('closed', reason);
    stop();
    outbox.close(closedError(reason));
    listen('removeEventListener');
  }

  function item(type: OutboxItem['type'], channel: string, settle: OutboxItem['settle'], data?: unknown): OutboxItem {
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
    send: (type, channel, data) => new Promise<void>((resolve, reject) => {
      if (state == 'closed') throw closedError();
      // messageBody throws on data that cannot be sent: the promise rejects with it as the cause.
      let queued: OutboxItem;
      try {
        queued = item(type, channel, (error) => { if (error) reject(error); else resolve(); }, data);
      } catch (cause) {
        throw new CometError('publish-refused', 'data not sendable', { code: 'bad-data', cause });
      }
      outbox.push(queued);
    }),
    close: () => { shutdown('client-close'); },
  };
}
