// The Bayeux handshake ([Bayeux §4]): its message, how it is carried (the first transport, or a
// later one when the first fails below HTTP for lack of a CORS grant), and its refusal.
import { CometError } from '../errors.ts';
import type { Platform } from '../platform.ts';
import type { ConnectionOptions } from '../types.ts';
import { HANDSHAKE, parseError, type BayeuxMessage } from './messages.ts';
import type { BayeuxTransport } from './transports.ts';

/** The handshake message, offering the connection types this engine can run. */
export const handshakeMessage = (id: string, transports: readonly BayeuxTransport[], platform: Platform): BayeuxMessage => ({
  channel: HANDSHAKE, id, version: '1.0', minimumVersion: '1.0',
  supportedConnectionTypes: transports.filter((each) => each.isSupported(platform)).map((each) => each.resource),
});

/** A refused handshake as the application hears of it: `handshake-refused`, with the server's code and message. */
export function refusedHandshake(reply: BayeuxMessage, willRetry: boolean): CometError {
  const { code, message } = parseError(reply.error);
  return new CometError('handshake-refused', message || 'refused', { code: code ? String(code) : undefined, willRetry });
}

/** The transports that carry the handshake, in order: a later one after a request fails below HTTP (no CORS grant). */
export function handshakeRoutes(transports: readonly BayeuxTransport[], options: ConnectionOptions) {
  const [first] = transports;
  if (!first) throw new TypeError('cometkit/bayeux needs its own transports: bayeuxLongPolling, bayeuxCallbackPolling, bayeuxEventSource');
  let via = 0;
  let everHandshook = false;
  return {
    get via() {
      return via;
    },
    current: () => transports[via] ?? first,
    /** The handshake on `transport` failed below HTTP: whether another way of sending is to be tried. */
    next(transport: BayeuxTransport) {
      const next = transports.findIndex((each, index) => index > via && each.exchange != transport.exchange && each.isSupported(options.platform));
      if (everHandshook || next < 0) return false;
      options.logger('handshake by', transports[next]?.resource);
      via = next;
      return true;
    },
    succeeded() {
      everHandshook = true;
    },
    /** Once the handshake needed another way of sending, only transports that send that way qualify. */
    reachable: (type: string) => !via || transports.some((each) => each.resource == type && each.exchange == transports[via]?.exchange),
  };
}

