// One Bayeux session with one CometD or Faye endpoint, as a cometkit connection (ConnectionFactory):
// the handshake, the /meta/connect loop under the server's advice, subscriptions (resubscribed
// after every handshake), publishes settled by their replies, extensions, and the same states,
// events, negotiator, backoff and watchdog as the native protocol. One explicit state machine;
// every asynchronous continuation first checks that it belongs to the current request (`run`).
// At most one /meta/connect is ever in flight (Faye leaves a second hanging, CometD answers it
// 500): a new one is sent only after the previous one was answered, failed or was aborted.
import { backoffDelay } from '../backoff.ts';
import { addSubscriber } from '../channels.ts';
import { invoke } from '../emitter.ts';
import { CometError, closedError, isRefusal, isRetried, listenerError, type CometErrorType } from '../errors.ts';
import { inOrder } from '../negotiator.ts';
import type { CometState, ConnectionFactory, ConnectionOptions, MessageHandler, StateReason } from '../types.ts';
import { createWatchdog } from '../watchdog.ts';
import { fail, type TransportExchange, type TransportFailure } from '../../transports/contract.ts';
import { ackExtension, type BayeuxExtension } from './extensions.ts';
import { CONNECT, DISCONNECT, HANDSHAKE, SUBSCRIBE, UNSUBSCRIBE, channelMatches, isMessage, isUnknownClient, parseError, type Advice, type BayeuxMessage } from './messages.ts';
import { isBayeuxTransport, type BayeuxTransport } from './transports.ts';
import { createUpstream, type UpstreamItem } from './upstream.ts';

/** What a Bayeux connection adds to the client's options. */
export interface BayeuxOptions {
  /**
   * Extensions that see every outgoing message before it is sent and every incoming one before it
   * is handled, for example one that puts an authentication token in the handshake's `ext`.
   * @default []
   */
  extensions?: readonly BayeuxExtension[];
  /**
   * Use the acknowledgement extension when the server offers it (CometD with its
   * `AcknowledgedMessagesExtension`): messages a cut connection lost are sent again. Turn it off
   * only to test what happens without it.
   * @default true
   */
  ack?: boolean;
}

type Failure = Omit<TransportFailure, 'type'> & { type: CometErrorType };

export const bayeux: ConnectionFactory = (endpoint, options, events) => {
  const { platform, logger: log, reconnect: policy = {}, withCredentials = false, headers = {} } = options;
  const { extensions = [], ack = true } = options as ConnectionOptions & BayeuxOptions;
  const { emit } = events;
  const { maxAttempts = Infinity, maxElapsedMs = Infinity } = policy;
  const sendTimeoutMs = options.sendTimeoutMs ?? 15000;
  const transports = options.transports.filter(isBayeuxTransport);
  const [first] = transports;
  if (!first) throw new TypeError('cometkit/bayeux needs its own transports: bayeuxLongPolling, bayeuxCallbackPolling, bayeuxEventSource');
  // The application's extensions see a message as it goes on the wire and as it came off it: after
  // the built-in ones going out, before them coming in.
  const builtIn = ack ? [ackExtension()] : [];
  const outgoing = [...builtIn, ...extensions];
  const incoming = [...extensions, ...builtIn];
  /** The subscribers per channel (or pattern), in order; a channel is subscribed on the server while it has one. */
  const channels = new Map<string, Set<MessageHandler>>();

  let state: CometState = 'connecting';
  let clientId: string | undefined;
  /** The server's latest advice; `interval` and `timeout` in milliseconds. */
  let advice: Required<Pick<Advice, 'reconnect' | 'interval' | 'timeout'>> = { reconnect: 'retry', interval: 0, timeout: 30000 };
  /** Counts /meta/connect requests (and handshakes); a continuation of an older one does nothing. */
  let run = 0;
  /** The handshake or /meta/connect in flight; at most one. */
  let down: TransportExchange | undefined;
  /** Faye's EventSource, while the current transport streams. */
  let stream: TransportExchange | undefined;
  let attempts = 0;
  let failingSince = 0;
  let nextId = 0;
  /** /meta/connect requests in this session, and messages delivered on this connection (the `seq` handlers get). */
  let connects = 0;
  let delivered = 0;
  /** Which transport carries the handshake: the first, or a later one after requests failed below HTTP (no CORS grant). */
  let via = 0;
  let everHandshook = false;

  const negotiator = (options.negotiator ?? inOrder)(platform, endpoint, transports, options.reprobeMs,
    (name, reason) => { emit('transport', { name, reason }); }, log);
  const current = negotiator.current as () => BayeuxTransport | undefined;
  const [setTimer, checkLiveness, stopTimer] = createWatchdog(platform);
  const delay = (attempt: number, floorMs = 0) => backoffDelay(attempt, policy, () => platform.Math.random(), floorMs);
  const id = () => String(++nextId);
  /** The transport that carries one-shot requests now. */
  const route = () => (clientId ? current() : undefined) ?? transports[via] ?? first;

  const upstream = createUpstream(platform, {
    send: (messages, done) => request(route(), messages, done),
    room: () => route().room?.(endpoint),
    unknownClient: () => { if (clientId) expired(); },
    delay: (attempt) => delay(attempt),
    id,
  });

  /** One request of `messages`; `done` gets the replies by id, after the answer's deliveries were handled. */
  function request(transport: BayeuxTransport, messages: BayeuxMessage[], done: (failure: Failure | undefined, replies?: Map<string, BayeuxMessage>) => void, timeoutMs = sendTimeoutMs) {
    try {
      for (const message of messages) for (const hook of outgoing) hook.outgoing?.(message);
      return transport.exchange(platform, { url: endpoint, messages: JSON.stringify(messages), withCredentials, headers, timeoutMs }, (failure, value) => {
        const replies = failure ? undefined : receive(Array.isArray(value) ? value as unknown[] : [value]);
        done(failure ?? (replies ? undefined : fail('malformed', 'not Bayeux messages')), replies);
      });
    } catch (error) {
      // An extension that throws, data JSON cannot encode, or an engine without the transport's needs.
      done(fail('unsupported', String(error)));
      return () => undefined;
    }
  }

  /** Handles the messages of an answer or a stream event: deliveries go to subscribers, replies are returned by id. */
  function receive(values: unknown[]): Map<string, BayeuxMessage> | undefined {
    const replies = new Map<string, BayeuxMessage>();
    for (const message of values) {
      if (!isMessage(message)) return undefined;
      for (const hook of incoming) invoke((each: BayeuxMessage) => hook.incoming?.(each), (error) => { emit('error', listenerError(error)); }, message);
      if (typeof message.successful == 'boolean') {
        if (message.id !== undefined) replies.set(String(message.id), message);
      } else if (!message.channel.startsWith('/meta/') && state != 'closed') {
        const seq = ++delivered;
        for (const [pattern, handlers] of [...channels]) {
          if (!channelMatches(pattern, message.channel)) continue;
          // Each handler once, in order; one that throws is reported, and the others still get it.
          for (const handler of [...handlers]) invoke(handler, (error) => { emit('error', listenerError(error)); }, message.data, { channel: message.channel, seq });
        }
      }
    }
    return replies;
  }

  function transition(next: CometState, reason: StateReason) {
    if (state == next || state == 'closed') return;
    state = next;
    log(next, reason);
    emit('statechange', { state: next, reason });
    if (next == 'closed') emit('close', { reason });
  }

  /** Ends the handshake or connect in flight and the timer; later continuations of them are stale. */
  function stop(leaveHeld?: boolean) {
    run++;
    if (!leaveHeld) down?.close();
    down = undefined;
    stopTimer();
  }

  function closeStream() {
    stream?.close();
    stream = undefined;
  }

  /** Keeps what the server advised; a reply without advice leaves the previous advice in force. */
  function adopt(next?: Advice) {
    advice = { ...advice, ...next };
    if (next?.['multiple-clients']) log('multiple-clients', advice.interval);
  }

  const resume = () => { (clientId ? connect : handshake)(); };

  function handshake() {
    stop();
    closeStream();
    upstream.pause();
    clientId = undefined;
    const mine = run;
    const transport = route();
    const message: BayeuxMessage = {
      channel: HANDSHAKE, id: id(), version: '1.0', minimumVersion: '1.0',
      supportedConnectionTypes: transports.filter((each) => each.isSupported(platform)).map((each) => each.resource),
    };
    down = { close: request(transport, [message], (failure, replies) => {
      if (mine != run) return;
      down = undefined;
      // A first handshake that fails below HTTP most likely lacks a CORS grant: try the next way of sending.
      const next = transports.findIndex((each, index) => index > via && each.exchange != transport.exchange && each.isSupported(platform));
      if (failure?.type == 'network' && !everHandshook && next > 0) {
        log('handshake by', transports[next]?.resource);
        via = next;
        return handshake();
      }
      if (failure) return onFailure(failure);
      const reply = replies?.get(String(message.id));
      if (!reply) return onFailure(fail('protocol', 'no handshake reply'));
      adopt(reply.advice);
      if (!reply.successful || !reply.clientId) return refused(reply);
      clientId = reply.clientId;
      everHandshook = true;
      connects = 0;
      // Once the handshake needed another way of sending, only transports that send that way qualify.
      const reachable = (type: string) => !via || transports.some((each) => each.resource == type && each.exchange == transports[via]?.exchange);
      negotiator.start((reply.supportedConnectionTypes ?? []).filter(reachable), false);
      if (!current()) return onFailure(fail('unsupported', 'no common connection type'));
      upstream.renew([...channels.keys()].map((channel) => tell(SUBSCRIBE, channel)));
      upstream.resume(clientId);
      connect();
    }) };
  }

  /** A refused handshake: `handshake-refused`, retried only when the advice allows it. */
  function refused(reply: BayeuxMessage) {
    const { code, message } = parseError(reply.error);
    const willRetry = advice.reconnect != 'none' && canRetry();
    emit('error', new CometError('handshake-refused', message || 'refused', { code: code ? String(code) : undefined, willRetry }));
    if (willRetry) retry('handshake-refused', advice.interval);
    else shutdown('handshake-refused');
  }

  /** The next /meta/connect on the current transport; a stream opens first and the connect follows its `open`. */
  function connect() {
    stop();
    const transport = current();
    if (!transport || !clientId) return;
    if (!transport.streaming) {
      closeStream();
      return sendConnect(transport);
    }
    if (stream) return sendConnect(transport);
    setTimer(options.probeTimeoutMs ?? 5000, () => { onFailure(fail('timeout', 'stream did not open'), transport); });
    const opened: TransportExchange = transport.open(platform, { url: `${endpoint}/${clientId}`, messages: '', withCredentials, headers, timeoutMs: 0 }, {
      onOpen: () => { if (stream == opened) sendConnect(transport); },
      onValues: (values) => { if (!receive(values)) onFailure(fail('malformed', 'not Bayeux messages'), transport); },
      onEnd: (failure) => { onFailure(failure ?? fail('network', 'ended'), transport); },
    });
    stream = opened;
  }

  function sendConnect(transport: BayeuxTransport) {
    stop();
    const mine = run;
    const message: BayeuxMessage = { channel: CONNECT, id: id(), clientId, connectionType: transport.resource };
    // The first connect of a session, and the first after a failure, is answered at once (as
    // CometD's own client asks for the first), so that the client knows without waiting out a hold.
    if (!connects++ || attempts) message.advice = { timeout: 0 };
    const holdMs = message.advice ? 0 : advice.timeout;
    down = { close: request(transport, [message], (failure, replies) => {
      if (mine != run) return;
      down = undefined;
      if (failure) return onFailure(failure, transport);
      const reply = replies?.get(String(message.id));
      if (!reply) return onFailure(fail('protocol', 'no connect reply'), transport);
      adopt(reply.advice);
      if (reply.successful) {
        negotiator.confirm();
        attempts = 0;
        transition('open', 'connected');
        return next();
      }
      if (isUnknownClient(reply)) return expired(reply.advice?.interval);
      onFailure(fail('protocol', reply.error ?? 'connect refused'), transport);
    }, holdMs + sendTimeoutMs) };
  }

  /** [Bayeux §5.1] What the advice says after a successful connect. */
  function next() {
    if (advice.reconnect == 'none') return shutdown('server-close');
    if (advice.reconnect == 'handshake') return expired(advice.interval);
    const planned = () => {
      negotiator.next?.();
      connect();
    };
    if (advice.interval > 0) setTimer(advice.interval, planned);
    else planned();
  }

  /**
   * The server no longer knows this client (it expired it, or restarted): handshake again and
   * resubscribe, after the interval the reply advised, if any. (Faye's interval in eventsource mode
   * is its keep-alive period, not a reconnect delay, so a remembered one is not used.)
   */
  function expired(floorMs?: number) {
    if (!clientId) return;
    clientId = undefined;
    upstream.pause();
    emit('gap', { reason: 'unknown-session' });
    retry('unknown-session', floorMs);
  }

  const canRetry = () => attempts < maxAttempts && (!attempts || platform.Date.now() - failingSince < maxElapsedMs);

  /**
   * A failure of the handshake (no `transport`) or of a connect or stream: reported as a typed
   * error, then a fallback to the next transport, a retry after a backoff, or the end.
   */
  function onFailure({ type, detail, status, retryMs }: Failure, transport?: BayeuxTransport) {
    if (!transport && isRefusal(status)) type = 'handshake-refused';
    const fallback = !!transport && negotiator.fail(type);
    const willRetry = fallback || (isRetried(type) && advice.reconnect != 'none' && canRetry());
    emit('error', new CometError(type, detail, { transport: transport?.name ?? null, status, willRetry }));
    if (fallback) {
      closeStream();
      connect();
    } else if (willRetry) retry(type, retryMs);
    else shutdown(type == 'handshake-refused' ? type : 'gave-up');
  }

  function retry(reason: StateReason, floorMs?: number) {
    if (!canRetry()) return shutdown('gave-up');
    stop();
    closeStream();
    if (!attempts) failingSince = platform.Date.now();
    transition('reconnecting', reason);
    const waitMs = delay(attempts++, floorMs);
    log('retry', waitMs);
    setTimer(waitMs, resume);
  }

  // Back online, or back from the back-forward cache: reconnect now instead of waiting out a backoff.
  const wake = (event: Event) => {
    if ((state == 'reconnecting' && !down) || (event as PageTransitionEvent).persisted) resume();
    else checkLiveness();
  };
  const unlisten = options.lifecycle?.(platform, wake, checkLiveness);

  function shutdown(reason: StateReason) {
    if (state == 'closed') return;
    transition('closed', reason);
    const transport = clientId ? route() : undefined;
    // A held poll by script is left to finish: the disconnect makes the server answer it, while a
    // script download the browser cancels crashes Faye's process (see the tests' guard).
    stop(transport?.name == 'jsonp');
    closeStream();
    if (transport) request(transport, [{ channel: DISCONNECT, id: id(), clientId }], () => undefined);
    clientId = undefined;
    upstream.close(closedError(reason));
    unlisten?.();
  }

  /** An (un)subscribe. A refused subscription is forgotten, so that a later subscribe asks again. */
  const tell = (type: typeof SUBSCRIBE | typeof UNSUBSCRIBE, channel: string): UpstreamItem => ({
    message: { channel: type, subscription: channel },
    settle(error) {
      if (!error || error.type == 'closed') return;
      if (type == SUBSCRIBE) channels.delete(channel);
      emit('error', error);
    },
  });

  /** Queues an upstream message, or settles it at once as `closed` once closed. */
  const queue = (item: UpstreamItem) => {
    if (state == 'closed') item.settle(closedError());
    else upstream.push(item);
  };

  handshake();

  return {
    get state() {
      return state;
    },
    get transport() {
      return state == 'closed' ? null : current()?.name ?? null;
    },
    subscribe: (channel, handler) => addSubscriber(channels, channel, handler, (type) => { queue(tell(type == 'subscribe' ? SUBSCRIBE : UNSUBSCRIBE, channel)); }),
    publish: (channel, data) => new Promise<void>((resolve, reject) => {
      queue({ message: { channel, data }, settle: (error) => { if (error) reject(error); else resolve(); } });
    }),
    on: events.on,
    off: events.off,
    close: () => { shutdown('client-close'); },
  };
};
