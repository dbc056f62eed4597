// The public surface of the cometkit reference server.
export { createCometServer } from './comet-server.ts';
export type { CometServer } from './comet-server.ts';
export { CometAuthError } from './errors.ts';
export type { ErrorCode } from './errors.ts';
export type { CloseCode, Reconnect } from './encodings.ts';
export type { ServerInspection } from './hub.ts';
export type {
  Awaitable,
  CometServerOptions,
  HandshakeInfo,
  PublishContext,
  SessionCloseContext,
  SessionInfo,
  SessionOpenContext,
  SubscribeContext,
  TransportName,
  UnsubscribeContext,
} from './options.ts';
