// One connection to one endpoint (PROTOCOL.md): the handshake and the session, over the parts it
// wires together: the reconnect state machine that judges every failure (reconnect.ts), the
// downstream loop with resume from `since` (downstream.ts, inbox.ts), the upstream outbox
// (outbox.ts) and the subscriptions of the client or clients (pool.ts) on it, reference-counted
// per channel (client-api.ts). At most two requests are in flight: one downstream (or the handshake) and one
// upstream send; the old downstream request is always ended before a new one opens.
import { clientApi } from './client-api.ts';
import { createDownstream, type Downstream } from './downstream.ts';
import { closedError } from './errors.ts';
import { createInbox } from './inbox.ts';
import { createOutbox, oneByOne, type OutboxItem } from './outbox.ts';
import { cacheBuster, check, type Handshake } from './protocol.ts';
import { createReconnect } from './reconnect.ts';
import type { ConnectionFactory, ConnectionOptions, MessageHandler, Resume } from './types.ts';
import { fail, type ScriptRoute, type Upstream } from '../transports/contract.ts';
import { fetchJson } from '../transports/request.ts';

export type * from './types.ts';

/** How the connection's one-shot requests (the handshake, the sends) go. */
interface SendRoute {
  /** Sends one; one that cannot even start fails like any other. */
  send: Upstream;
  /** The route a script transport (jsonp, iframe) brings, for where fetch cannot reach the endpoint. */
  script: ScriptRoute | undefined;
}

function sendRoute(endpoint: string, options: ConnectionOptions): SendRoute {
  const { platform, logger: log, transports, withCredentials = false, headers = {}, sendTimeoutMs = 15000 } = options;
  const direct: Upstream = (url, done, messages) =>
    fetchJson(platform, { url, body: messages && `{"messages":${messages}}`, withCredentials, headers, timeoutMs: sendTimeoutMs }, done);
  const script = transports.find((transport) => transport.script)?.script?.({ platform, endpoint, transports, direct, log, timeoutMs: sendTimeoutMs });
  const send: Upstream = (url, done, messages) => {
    try {
      return (script?.send ?? direct)(url, done, messages);
    } catch (error) {
      done(fail('unsupported', String(error)));
      return () => undefined;
    }
  };
  return { send, script };
}

export const createConnection: ConnectionFactory = (endpoint, options, events) => {
  const { platform, transports, batching = oneByOne } = options;
  const { emit } = events;
  const channels = new Map<string, Set<MessageHandler>>();
  /** The session being run: undefined before a handshake's answer, and once it is gone. */
  let session: Handshake | undefined;
  /** The server's `retryMs` of the last session: the floor of every reconnect delay. */
  let retryFloorMs = 0;
  const bust = cacheBuster(platform);
  const route = sendRoute(endpoint, options);
  const sendUrl = () => `${endpoint}/send?session=${session?.session}`;
  const machine = createReconnect(options, emit, {
    endpoint,
    preference: transports,
    errorCodes: true,
    floorMs: () => retryFloorMs,
    resume: () => { if (session) downstream?.open(); else handshake(); },
    closed: (reason) => { outbox.close(closedError(reason)); },
  });
  const { negotiator, failed } = machine;
  const outbox = createOutbox(platform, {
    send: (messages, done) => route.send(sendUrl(), done, messages),
    limits: () => session && { ...session, urlRoom: route.script?.room(sendUrl()) },
    retryDelayMs: machine.delay,
    expired,
    report: (error) => { emit('error', error); },
    batching,
  });
  const inbox = createInbox(channels, emit);
  /** The downstream loop of the session being run. */
  let downstream: Downstream | undefined;
  const { client, subscriptions } = clientApi<OutboxItem>({
    machine, transport: negotiator.current, channels, events, push: outbox.push,
    item: (type, channel, settle, data) => ({ type, body: batching.body(type, channel, data), settle }),
  });

  function handshake() {
    outbox.pause();
    // The one-shot request gives up by itself after sendTimeoutMs.
    machine.request(() => ({
      close: route.send(`${endpoint}/handshake?v=1&t=${bust()}`, (failure, value) => {
        const answer = failure ? undefined : check(value);
        if (answer?.type == 'handshake') start(answer);
        else failed(failure ?? fail('protocol', 'not a handshake'));
      }),
    }));
  }

  /**
   * Runs a session: a handshake's answer, or (`options._resume`, a cross-tab takeover in
   * crosstab.ts) one another tab ran, from `seq` = its `since`, upstream ids from `_base`.
   */
  function start(answer: Resume) {
    session = answer;
    retryFloorMs = answer.retryMs;
    downstream = createDownstream({ endpoint, options, machine, inbox, session: answer, expired });
    negotiator.start(answer.transports, !!route.script?.scriptOnly);
    outbox.renew([...answer._replay ?? [], ...subscriptions()], answer._base);
    const transport = negotiator.current();
    if (!transport) return failed(fail('unsupported', 'no transport'));
    // A poll holds until there is data: for polling, the server's answer is proof enough.
    if (!transport.streaming) machine.transition('open', 'handshake');
    downstream.open();
  }

  /** The session is gone (§8.1 `handshake`): the lost range is a gap; handshake and resubscribe. */
  function expired() {
    if (!session) return;
    session = undefined;
    emit('gap', { reason: 'unknown-session' });
    machine.retry('unknown-session');
  }

  // Cross-tab seam (crosstab.ts): continue a session instead of opening one.
  if (options._resume) start(options._resume);
  else handshake();
  return client;
};
