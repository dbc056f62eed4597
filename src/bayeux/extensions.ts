// Bayeux extensions (Bayeux §7): hooks that see every outgoing message before it is sent and every
// incoming one before it is handled, and may add fields to its `ext` (an authentication token, for
// example). The acknowledgement extension that gives delivery without loss across reconnects
// (CometD's "ack" extension) is one of them, built in.
import { CONNECT, HANDSHAKE, type BayeuxMessage } from './messages.ts';

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

export interface BayeuxExtension {
  /** Called with each message about to be sent (handshake, connects, subscribes, publishes, ...); may change it. */
  outgoing?(message: BayeuxMessage): void;
  /** Called with each message received, replies and deliveries, before the client acts on it; may change it. */
  incoming?(message: BayeuxMessage): void;
}

/**
 * The acknowledgement extension, as CometD's servers offer it (`AcknowledgedMessagesExtension`):
 * the handshake asks for it with `ext.ack: true`; when the server agrees, each /meta/connect reply
 * carries a batch number and the next /meta/connect acknowledges the last batch received. The server
 * keeps every message of a batch not yet acknowledged and sends it again, so a connect reply lost to
 * a cut loses nothing. One per session: its state is the batch.
 */
export function ackExtension(): BayeuxExtension {
  let enabled = false;
  let batch = 0;
  return {
    outgoing(message) {
      if (message.channel == HANDSHAKE) {
        enabled = false;
        batch = 0;
        message.ext = { ...message.ext, ack: true };
      } else if (message.channel == CONNECT && enabled) {
        message.ext = { ...message.ext, ack: batch };
      }
    },
    incoming({ channel, ext, successful }) {
      const ack = ext?.ack;
      if (channel == HANDSHAKE) {
        // CometD 8+ may answer `{ enabled, batch }`; older servers `true`.
        const offered = typeof ack == 'object' && ack !== null ? ack as { enabled?: unknown; batch?: unknown } : { enabled: ack };
        enabled = successful === true && offered.enabled === true;
        if (typeof offered.batch == 'number') batch = offered.batch;
      } else if (channel == CONNECT && successful && enabled && typeof ack == 'number') {
        batch = ack;
      }
    },
  };
}
