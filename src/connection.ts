// One connection to one endpoint (PROTOCOL.md): the handshake, the downstream loop with resume from
// `since`, reconnects, the heartbeat watchdog, the upstream outbox, and the subscriptions of the
// client or clients (pool.ts) on it, reference-counted per channel. Its lifecycle is one explicit state
// machine; every asynchronous continuation first checks that it still belongs to the current
// request (`run`) and that the connection is not closed. At most two requests are in flight: one
// downstream (or the handshake) and one upstream send; the old downstream request is always ended
// before a new one opens.
import { backoffDelay } from './backoff.ts';
import { addSubscriber } from './channels.ts';
import { invoke } from './emitter.ts';
import { CometError, closedError, isRefusal, isRetried, listenerError, type CometErrorType } from './errors.ts';
import { inOrder } from './negotiator.ts';
import { createOutbox, oneByOne, type OutboxItem } from './outbox.ts';
import { check, type CloseFrame, type DownstreamFrame, type Handshake } from './protocol.ts';
import type { CometState, ConnectionFactory, MessageHandler, Resume, StateReason } from './types.ts';
import { createWatchdog } from './watchdog.ts';
import { fail, type OneShotDone, type ScriptRoute, type Transport, type TransportExchange, type TransportFailure, type Upstream } from '../transports/contract.ts';
import { fetchJson } from '../transports/request.ts';

export type * from './types.ts';

/** A failure of a transport, a one-shot request or the protocol layer's own checks. */
type Failure = Omit<TransportFailure, 'type'> & { type: CometErrorType };

export const createConnection: ConnectionFactory = (endpoint, options, events) => {
  const { platform, logger: log, transports, reconnect: policy = {}, withCredentials = false, headers = {}, sendTimeoutMs = 15000, batching = oneByOne } = options;
  const { emit } = events;
  const { maxAttempts = Infinity, maxElapsedMs = Infinity } = policy;
  /** The subscribers per channel, in order; a channel is subscribed on the server while it has one. */
  const channels = new Map<string, Set<MessageHandler>>();

  let state: CometState = 'connecting';
  let session: Handshake | undefined;
  let since = 0;
  let heartbeatMs = 0;
  let retryFloorMs = 0;
  /** Counts downstream requests; a continuation of an older one is stale and does nothing. */
  let run = 0;
  /** The downstream request, or the handshake, in flight. */
  let down: TransportExchange | undefined;
  /** Consecutive failures, and when the first of them happened. */
  let attempts = 0;
  let failingSince = 0;
  /**
   * From when a cut counts as one of a healthy request: retryMs after it proved itself, or at once
   * once it delivered a message (it made progress, so coming back at once is no tight loop).
   */
  let healthyFrom = Infinity;
  let cacheBuster = 0;

  const negotiator = (options.negotiator ?? inOrder)(platform, endpoint, transports, options.reprobeMs,
    (name, reason) => { emit('transport', { name, reason }); }, log);
  const { current, confirmed } = negotiator;
  const [setTimer, checkLiveness, stopTimer] = createWatchdog(platform);
  /** A stream's first frame, its heartbeats, or a poll's answer must come within `ms`. */
  const arm = (ms: number) => {
    setTimer(ms, () => { onFailure(fail('timeout', confirmed() ? 'silent' : 'no first frame'), current()); });
  };
  const bust = () => `${platform.Date.now().toString(36)}${cacheBuster++}`;
  const delay = (attempt: number, floorMs = retryFloorMs) => backoffDelay(attempt, policy, () => platform.Math.random(), floorMs);
  const tolerance = () => options.heartbeatToleranceMs ?? (options.heartbeatToleranceFactor ?? 2) * heartbeatMs;
  const sendUrl = () => `${endpoint}/send?session=${session?.session}`;

  const direct: Upstream = (url, done, messages) =>
    fetchJson(platform, { url, body: messages && `{"messages":${messages}}`, withCredentials, headers, timeoutMs: sendTimeoutMs }, done);
  /** A script transport (jsonp, iframe) brings the route that goes by script where fetch cannot. */
  const upstream: Partial<ScriptRoute> & Pick<ScriptRoute, 'send'> =
    transports.find((transport) => transport.script)?.script?.({ platform, endpoint, transports, direct, log, timeoutMs: sendTimeoutMs }) ?? { send: direct };

  /** A one-shot request (the handshake, or a send). One that cannot even start fails like any other. */
  function oneShot(url: string, done: OneShotDone, messages?: string) {
    try {
      return upstream.send(url, done, messages);
    } catch (error) {
      done(fail('unsupported', String(error)));
      return () => undefined;
    }
  }

  const [push, pause, renew, closeOutbox] = createOutbox(
    platform,
    (messages, done) => oneShot(sendUrl(), done, messages),
    () => session && { ...session, urlRoom: upstream.room?.(sendUrl()) },
    delay,
    expired,
    (error) => { emit('error', error); },
    batching,
  );

  function transition(next: CometState, reason: StateReason) {
    if (state == next || state == 'closed') return;
    state = next;
    log(next, reason);
    emit('statechange', { state: next, reason });
    if (next == 'closed') emit('close', { reason });
  }

  /** Ends the downstream request (or handshake) and, unless `keepTimer`, its timer; later continuations of it are stale. */
  function stop(keepTimer?: boolean) {
    run++;
    down?.close();
    down = undefined;
    if (!keepTimer) stopTimer();
  }

  const connect = () => { (session ? open : handshake)(); };

  function handshake() {
    stop();
    pause();
    const mine = run;
    // The one-shot request gives up by itself after sendTimeoutMs.
    const abort = oneShot(`${endpoint}/handshake?v=1&t=${bust()}`, (failure, value) => {
      const answer = failure ? undefined : check(value);
      if (answer?.type == 'handshake') start(answer);
      else onFailure(failure ?? fail('protocol', 'not a handshake'));
    });
    if (mine == run) down = { close: abort };
  }

  /**
   * Runs a session: a handshake's answer, or (`options._resume`, a cross-tab takeover in
   * crosstab.ts) one another tab ran, from `seq` = its `since`, upstream ids from `_base`.
   */
  function start(answer: Resume) {
    session = answer;
    since = answer.seq;
    heartbeatMs = answer.heartbeatMs;
    retryFloorMs = answer.retryMs;
    negotiator.start(answer.transports, !!upstream.scriptOnly);
    renew([...answer._replay ?? [], ...[...channels.keys()].map((channel) => tell('subscribe', channel))], answer._base);
    const transport = current();
    if (!transport) return onFailure(fail('unsupported', 'no transport'));
    // A poll holds until there is data: for polling, the server's answer is proof enough.
    if (!transport.streaming) transition('open', 'handshake');
    open();
  }

  /** Opens the downstream request on the current transport, at `since`. */
  function open() {
    stop();
    const transport = current();
    if (!transport || !session) return;
    const mine = run;
    const { streaming } = transport;
    arm(streaming && !confirmed() ? options.probeTimeoutMs ?? 5000 : tolerance() + (streaming ? 0 : session.holdMs));
    try {
      const opened = transport.open(platform, {
        url: `${endpoint}/${transport.resource}?session=${session.session}&since=${since}&t=${bust()}`, withCredentials, headers,
      }, {
        // A transport calls nothing after close(), so these belong to the current request.
        onValues: (values) => { receive(values, transport, mine); },
        onEnd: (failure) => {
          if (failure || streaming) onFailure(failure ?? fail('network', 'ended'), transport);
          else {
            // A poll answered (§5.3): the next one goes at once, with the new since.
            proven();
            planned();
          }
        },
      });
      if (mine == run) down = opened;
      else opened.close();
    } catch (error) {
      onFailure(fail('unsupported', String(error)), transport);
    }
  }

  /** A new request that follows a planned end (a poll's answer, a recycle): no backoff. */
  function planned() {
    negotiator.next?.();
    open();
  }

  function proven() {
    negotiator.confirm();
    attempts = 0;
    healthyFrom = platform.Date.now() + retryFloorMs;
    transition('open', 'connected');
  }

  function receive(values: unknown[], transport: Transport, mine: number) {
    if (transport.streaming && confirmed()) arm(tolerance());
    for (const value of values) {
      // A frame may end this request (close) or the application may close the client.
      if (mine != run) return;
      const frame = check(value) as DownstreamFrame | undefined;
      if (!frame) return onFailure(fail('malformed', 'not a frame'), transport);
      if (frame.type == 'open') {
        heartbeatMs = frame.heartbeatMs;
        proven();
        arm(tolerance());
      } else if (frame.type == 'msg') {
        const { channel, seq, data } = frame;
        // §5.1: a seq at or below the highest processed is a duplicate.
        if (seq > since) {
          since = seq;
          healthyFrom = 0;
          // Each handler once, in order; one that throws is reported, and the others still get it.
          for (const handler of [...channels.get(channel) ?? []]) {
            invoke(handler, (error) => { emit('error', listenerError(error)); }, data, { channel, seq });
          }
        }
      } else if (frame.type == 'gap') {
        const { from, to } = frame;
        if (to > since) {
          since = to;
          emit('gap', { from, to });
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
      stop(true);
    }
  }

  /** The session is gone (§8.1 `handshake`): the lost range is a gap; handshake and resubscribe. */
  function expired() {
    if (!session) return;
    session = undefined;
    emit('gap', { reason: 'unknown-session' });
    retry('unknown-session');
  }

  const canRetry = () => attempts < maxAttempts && (!attempts || platform.Date.now() - failingSince < maxElapsedMs);

  /**
   * A failure of the handshake (no `transport`), of a transport or of the protocol layer's own
   * checks: reported as a typed error, then a fallback, a retry or the end. One-shot requests give
   * the server's error code as the `detail` (transports/request.ts).
   */
  function onFailure({ type, detail, status, retryMs }: Failure, transport?: Transport) {
    if (!transport && isRefusal(status)) type = 'handshake-refused';
    // Before a transport proved itself, any failure hands over to the next candidate at once, in
    // the same session, from the same since: nothing is lost. The handshake just got through, so
    // even a network failure points at the transport (WebKit fails a multipart body that way).
    const fallback = !!transport && negotiator.fail(type);
    const willRetry = fallback || (isRetried(type) && canRetry());
    emit('error', new CometError(type, detail, { transport: transport?.name ?? null, status, willRetry, code: status ? detail : undefined }));
    if (fallback) open();
    // §8.2: a request that served a proven connection for at least retryMs, or delivered a
    // message, and was then cut or went silent (no HTTP answer to heed) comes back at once, with a
    // little jitter; a failure after that one waits out the backoff.
    else if (willRetry) retry(type, retryMs, !attempts && !status && platform.Date.now() >= healthyFrom);
    else shutdown(type == 'handshake-refused' ? type : 'gave-up');
  }

  function retry(reason: StateReason, floorMs?: number, quick?: boolean) {
    if (!canRetry()) return shutdown('gave-up');
    stop();
    if (!attempts) failingSince = platform.Date.now();
    transition('reconnecting', reason);
    const waitMs = quick ? platform.Math.random() * 250 : delay(attempts, floorMs);
    attempts++;
    log('retry', waitMs);
    setTimer(waitMs, connect);
  }

  // Back online, or back from the back-forward cache: reconnect at once instead of waiting out a
  // backoff; a page restored from that cache had its connections cut. Heard through
  // `options.lifecycle` (lifecycle.ts), which removes its listeners when the connection closes.
  const wake = (event: Event) => {
    // Reconnecting with no request in flight: waiting out a backoff.
    if ((state == 'reconnecting' && !down) || (event as PageTransitionEvent).persisted) connect();
    else checkLiveness();
  };
  const unlisten = options.lifecycle?.(platform, wake, checkLiveness);

  function shutdown(reason: StateReason) {
    transition('closed', reason);
    stop();
    closeOutbox(closedError(reason));
    unlisten?.();
  }

  const item = (type: OutboxItem['type'], channel: string, settle: OutboxItem['settle'], data?: unknown): OutboxItem =>
    ({ type, body: batching.body(type, channel, data), settle });

  /** An (un)subscribe. A refused subscription is forgotten, so that a later subscribe asks again. */
  const tell = (type: 'subscribe' | 'unsubscribe', channel: string) => item(type, channel, (error) => {
    if (!error || error.type == 'closed') return;
    if (type == 'subscribe') channels.delete(channel);
    emit('error', error);
  });

  /** Queues an upstream message, or settles it at once as `closed` once closed. */
  const queue = (queued: OutboxItem) => {
    if (state == 'closed') queued.settle(closedError());
    else push(queued);
  };

  // Cross-tab seam (crosstab.ts): continue a session instead of opening one.
  if (options._resume) start(options._resume);
  else handshake();

  return {
    get state() {
      return state;
    },
    get transport() {
      return state == 'closed' ? null : current()?.name ?? null;
    },
    subscribe: (channel, handler) => addSubscriber(channels, channel, handler, (type) => { queue(tell(type, channel)); }),
    // Data that batching.body cannot send makes it throw: the promise rejects with that error.
    publish: (channel, data) => new Promise<void>((resolve, reject) => {
      queue(item('publish', channel, (error) => { if (error) reject(error); else resolve(); }, data));
    }),
    on: events.on,
    off: events.off,
    close: () => { shutdown('client-close'); },
  };
};
