// The /meta/connect loop of one Bayeux session ([Bayeux §5]): one connect at a time on the current
// transport, the next after the advised interval, a stream (Faye's EventSource) opened first where
// the transport streams. At most one /meta/connect is ever in flight (Faye leaves a second hanging,
// CometD answers it 500): a new one is sent only after the previous one was answered, failed or
// was aborted.
import type { Reconnect } from '../reconnect.ts';
import type { ConnectionOptions } from '../types.ts';
import { fail, type TransportExchange } from '../../transports/contract.ts';
import { CONNECT, isUnknownClient, type Advice, type BayeuxMessage } from './messages.ts';
import type { BayeuxTransport } from './transports.ts';
import type { Wire } from './wire.ts';

/** The advice in force; `interval` and `timeout` in milliseconds. */
export type AdviceNow = Required<Pick<Advice, 'reconnect' | 'interval' | 'timeout'>>;

export interface ConnectLoopOptions {
  endpoint: string;
  options: ConnectionOptions;
  machine: Reconnect;
  wire: Wire;
  /** The session's clientId; undefined while there is none. */
  clientId: () => string | undefined;
  /** The server no longer knows the client: handshake again, after `floorMs` if given. */
  expired: (floorMs?: number) => void;
}

export interface ConnectLoop {
  /** A new session: its first connect is answered at once. */
  begin: () => void;
  /** The next /meta/connect on the current transport, ending the request in flight. */
  connect: () => void;
  /** Closes the stream, if one is open. */
  closeStream: () => void;
  /** The advice in force. */
  advice: () => AdviceNow;
  /** Keeps what a reply advised; a reply without advice leaves the previous advice in force. */
  adopt: (advice?: Advice) => void;
}

export function createConnectLoop(loop: ConnectLoopOptions): ConnectLoop {
  const { endpoint, options, machine, wire } = loop;
  const { negotiator, failed } = machine;
  const { platform, withCredentials = false, headers = {}, sendTimeoutMs = 15000 } = options;
  /** Faye's EventSource, while the current transport streams. */
  let stream: TransportExchange | undefined;
  /** /meta/connect requests in this session. */
  let connects = 0;
  let advice: AdviceNow = { reconnect: 'retry', interval: 0, timeout: 30000 };
  const adopt = (next?: Advice) => {
    advice = { ...advice, ...next };
    if (next?.['multiple-clients']) options.logger('multiple-clients', advice.interval);
  };

  const closeStream = () => {
    stream?.close();
    stream = undefined;
  };

  /** A stream opens first, and the connect follows its `open`. */
  function connect() {
    machine.stop();
    const transport = negotiator.current() as BayeuxTransport | undefined;
    const clientId = loop.clientId();
    if (!transport || !clientId) return;
    if (!transport.streaming) {
      closeStream();
      return sendConnect(transport, clientId);
    }
    if (stream) return sendConnect(transport, clientId);
    machine.timer.set(options.probeTimeoutMs ?? 5000, () => { failed(fail('timeout', 'stream did not open'), transport); });
    const opened: TransportExchange = transport.open(platform, { url: `${endpoint}/${clientId}`, messages: '', withCredentials, headers, timeoutMs: 0 }, {
      onOpen: () => { if (stream == opened) sendConnect(transport, clientId); },
      onValues: (values) => { if (!wire.receive(values)) failed(fail('malformed', 'not Bayeux messages'), transport); },
      onEnd: (failure) => { failed(failure ?? fail('network', 'ended'), transport); },
    });
    stream = opened;
  }

  function sendConnect(transport: BayeuxTransport, clientId: string) {
    const message: BayeuxMessage = { channel: CONNECT, id: wire.id(), clientId, connectionType: transport.resource };
    // The first connect of a session, and every connect after a failure (while reconnecting), is
    // answered at once (as CometD's own client asks for the first), so that the client knows
    // without waiting out a hold.
    if (!connects++ || machine.state == 'reconnecting') message.advice = { timeout: 0 };
    const holdMs = message.advice ? 0 : advice.timeout;
    machine.request((live) => {
      const abort = wire.request(transport, [message], (failure, replies) => {
        if (!live()) return;
        if (failure) return failed(failure, transport);
        const reply = replies?.get(String(message.id));
        if (!reply) return failed(fail('protocol', 'no connect reply'), transport);
        adopt(reply.advice);
        if (reply.successful) {
          negotiator.confirm();
          machine.succeeded();
          return next();
        }
        if (isUnknownClient(reply)) return loop.expired(reply.advice?.interval);
        failed(fail('protocol', reply.error ?? 'connect refused'), transport);
      }, holdMs + sendTimeoutMs);
      // A held poll by script is left to finish at the end: the disconnect makes the server answer
      // it, while a script download the browser cancels crashes Faye's process (see the tests' guard).
      return { close: () => { if (machine.state != 'closed' || transport.name != 'jsonp') abort(); } };
    });
  }

  /** [Bayeux §5.1] What the advice says after a successful connect. */
  function next() {
    const { reconnect, interval } = advice;
    if (reconnect == 'none') return machine.shutdown('server-close');
    if (reconnect == 'handshake') return loop.expired(interval);
    const planned = () => {
      negotiator.next?.();
      connect();
    };
    if (interval > 0) machine.timer.set(interval, planned);
    else planned();
  }

  return {
    begin: () => { connects = 0; },
    connect,
    closeStream,
    advice: () => advice,
    adopt,
  };
}
