// The shapes the connection, the host pool and the public client share: states and their reasons,
// events, resolved options, and what the connection needs from its host.
import type { CometError, CometErrorType } from './errors.ts';
import type { Emitter } from './emitter.ts';
import type { NegotiatorFactory, TransportReason } from './negotiator.ts';
import type { MessageFrame, UpstreamMessage } from './protocol.ts';
import type { Platform } from './platform.ts';
import type { ScriptJson, xhrJson } from '../transports/request.ts';
import type { Transport, TransportName } from '../transports/types.ts';

export type CometState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** Why the state changed: a failure's error type, or one of these. */
export type StateReason =
  | CometErrorType
  | 'connected'       // a stream's first frame arrived, or a poll was answered
  | 'handshake'       // a session was established (polling transports need no further proof)
  | 'unknown-session' // the session expired: handshake again (§8.1)
  | 'server-close'    // the server closed the stream and asked for a backoff (`shutdown`, §8.1)
  | 'client-close'    // the application called close()
  | 'gave-up';        // the reconnect policy's maxAttempts or maxElapsedMs was reached

export type GapEvent = { from: number; to: number } | { reason: 'unknown-session' };

export interface ConnectionEvents {
  statechange: { state: CometState; reason: StateReason };
  transport: { name: TransportName; reason: TransportReason };
  gap: GapEvent;
  error: CometError;
  close: { reason: StateReason };
}

export interface ReconnectPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  maxAttempts: number;
  maxElapsedMs: number;
}

/** Options with every default applied (see `CometClientOptions` for their meaning). */
export interface ConnectionOptions {
  platform: Platform;
  transports: readonly Transport[];
  negotiator: NegotiatorFactory;
  reconnect: ReconnectPolicy;
  probeTimeoutMs: number;
  reprobeMs: number;
  heartbeatToleranceFactor: number;
  heartbeatToleranceMs: number | undefined;
  withCredentials: boolean;
  headers: Readonly<Record<string, string>>;
  sendTimeoutMs: number;
  logger: (message: string, detail?: unknown) => void;
}

/**
 * The one-shot requests of transports/request.ts, handed in so the protocol layer stays apart.
 * `scriptJson` is there when a script transport (jsonp, iframe) brought it (`Transport.script`).
 */
export interface OneShot {
  xhrJson: typeof xhrJson;
  scriptJson?: ScriptJson | undefined;
}

export interface ConnectionHost {
  emit: Emitter<ConnectionEvents>['emit'];
  /** A message to hand to the subscribers of its channel, once each, in order. */
  deliver(frame: MessageFrame): void;
  /** The channels subscribed now, to subscribe again on a new session. */
  channels(): string[];
}

export interface Connection {
  readonly state: CometState;
  readonly transport: TransportName | null;
  /** Queues an upstream message; resolves on acknowledgement. */
  send(type: UpstreamMessage['type'], channel: string, data?: unknown): Promise<void>;
  close(): void;
}
