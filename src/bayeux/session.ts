// One Bayeux session with one CometD or Faye endpoint, as a cometkit connection (ConnectionFactory):
// the handshake, the /meta/connect loop under the server's advice (connect.ts), subscriptions
// (resubscribed after every handshake), publishes settled by their replies (upstream.ts),
// extensions (wire.ts), and the same states, events, negotiator, backoff and watchdog as the native
// protocol: the same reconnect state machine (reconnect.ts) and client API (client-api.ts).
import { clientApi, type UpstreamType } from '../client-api.ts';
import { closedError, type CometError } from '../errors.ts';
import { createReconnect } from '../reconnect.ts';
import type { ConnectionFactory, MessageHandler } from '../types.ts';
import { fail } from '../../transports/contract.ts';
import { createConnectLoop } from './connect.ts';
import { handshakeMessage, handshakeRoutes, refusedHandshake } from './handshake.ts';
import { DISCONNECT, SUBSCRIBE, UNSUBSCRIBE, type BayeuxMessage } from './messages.ts';
import { isBayeuxTransport, type BayeuxTransport } from './transports.ts';
import { createUpstream, type UpstreamItem } from './upstream.ts';
import { createWire } from './wire.ts';

export type { BayeuxOptions } from './extensions.ts';

/** An upstream message as Bayeux writes it: a publish on its channel, an (un)subscribe on a meta channel. */
const upstreamItem = (type: UpstreamType, channel: string, settle: (error?: CometError) => void, data?: unknown): UpstreamItem => ({
  message: type == 'publish' ? { channel, data } : { channel: type == 'subscribe' ? SUBSCRIBE : UNSUBSCRIBE, subscription: channel },
  settle,
});

export const bayeux: ConnectionFactory = (endpoint, options, events) => {
  const { platform } = options;
  const { emit } = events;
  const transports = options.transports.filter(isBayeuxTransport);
  /** The subscribers per channel (or pattern), in order; a channel is subscribed on the server while it has one. */
  const channels = new Map<string, Set<MessageHandler>>();
  let clientId: string | undefined;
  const routes = handshakeRoutes(transports, options);
  const machine = createReconnect(options, emit, {
    endpoint,
    preference: transports,
    resume: () => { if (clientId) loop.connect(); else handshake(); },
    halt: () => { loop.closeStream(); },
    // [Bayeux §5.1] Advice `none`: the server wants no more requests.
    mayRetry: () => loop.advice().reconnect != 'none',
    closed: (reason) => {
      if (clientId) wire.request(route(), [{ channel: DISCONNECT, id: wire.id(), clientId }], () => undefined);
      clientId = undefined;
      upstream.close(closedError(reason));
    },
  });
  const { negotiator, failed } = machine;
  const current = negotiator.current as () => BayeuxTransport | undefined;
  /** The transport that carries one-shot requests now. */
  const route = () => (clientId ? current() : undefined) ?? routes.current();
  const wire = createWire({ endpoint, options, channels, emit, closed: () => machine.state == 'closed' });
  const upstream = createUpstream(platform, {
    send: (messages, done) => wire.request(route(), messages, done),
    room: () => route().room?.(endpoint),
    unknownClient: () => { if (clientId) expired(); },
    delay: (attempt) => machine.delay(attempt),
    id: wire.id,
  });
  const loop = createConnectLoop({ endpoint, options, machine, wire, clientId: () => clientId, expired });
  const { client, subscriptions } = clientApi<UpstreamItem>({
    machine, transport: current, channels, events, item: upstreamItem, push: (item) => { upstream.push(item); },
  });

  function handshake() {
    loop.closeStream();
    upstream.pause();
    clientId = undefined;
    const transport = route();
    const message = handshakeMessage(wire.id(), transports, platform);
    machine.request((live) => ({ close: wire.request(transport, [message], (failure, replies) => {
      if (!live()) return;
      // A first handshake that fails below HTTP most likely lacks a CORS grant: try the next way of sending.
      if (failure?.type == 'network' && routes.next(transport)) return handshake();
      if (failure) return failed(failure);
      const reply = replies?.get(String(message.id));
      if (!reply) return failed(fail('protocol', 'no handshake reply'));
      loop.adopt(reply.advice);
      if (!reply.successful || !reply.clientId) return refused(reply);
      start(reply.clientId, reply.supportedConnectionTypes ?? []);
    }) }));
  }

  /** A session: its connection types are the candidates, its subscriptions go first, and the connect loop starts. */
  function start(id: string, connectionTypes: string[]) {
    clientId = id;
    routes.succeeded();
    loop.begin();
    negotiator.start(connectionTypes.filter(routes.reachable), false);
    if (!current()) return failed(fail('unsupported', 'no common connection type'));
    upstream.renew(subscriptions());
    upstream.resume(id);
    loop.connect();
  }

  /** A refused handshake: `handshake-refused`, retried only when the advice allows it. */
  function refused(reply: BayeuxMessage) {
    const advice = loop.advice();
    const willRetry = advice.reconnect != 'none' && machine.canRetry();
    emit('error', refusedHandshake(reply, willRetry));
    if (willRetry) machine.retry('handshake-refused', advice.interval);
    else machine.shutdown('handshake-refused');
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
    machine.retry('unknown-session', floorMs);
  }

  handshake();
  return client;
};
