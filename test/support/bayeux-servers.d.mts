// Types of bayeux-servers.mjs for the TypeScript suites.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export const FAYE_VERSION: string;
export const COMETD_VERSION: string;

export type BayeuxKind = 'faye' | 'cometd';

export interface BayeuxServerStats {
  /** /meta/connect requests seen, and the most ever in flight at once for one clientId. */
  connects: number;
  maxConcurrentConnects: number;
  /** /meta/connect requests in flight now, all clients together. */
  inFlight: number;
  /** How often the Faye crash guard swallowed a second response head (see bayeux-servers.mjs). */
  crashesAvoided: number;
  handshakes: number;
  /** /meta/connect replies cut on their way by dropConnectReplies. */
  dropped: number;
  /** The connectionType values the connects named. */
  connectionTypes: Set<string>;
}

export interface BayeuxEngine {
  readonly kind: BayeuxKind;
  readonly path: string;
  readonly stats: BayeuxServerStats;
  handle(request: IncomingMessage, response: ServerResponse): void;
  owns(pathname: string): boolean;
  publish(channel: string, data: unknown): Promise<unknown>;
  /** A Faye (`incoming(message, callback)`) or CometD (`incoming(cometd, session, message, callback)`) server extension. */
  addExtension(extension: object): void;
  removeExtension(extension: object): void;
  /** The server instance itself (a fresh one after restart()). */
  readonly server: unknown;
  /** Cuts the connection of the next `count` /meta/connect replies that carry messages, instead of sending them. */
  dropConnectReplies(count?: number): void;
  /** Destroys every open connection of the server's requests but `spare`. */
  cut(spare?: Socket): void;
  /** A fresh server instance (every session lost) at the same place, the open connections cut but `spare`. */
  restart(spare?: Socket): void;
  close(): void;
}

export interface BayeuxServer extends BayeuxEngine {
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
}

export interface BayeuxEngineOptions {
  /** How long a /meta/connect is held. @default 2000 */
  timeoutMs?: number;
  /** CometD's acknowledgement extension installed. @default false */
  ack?: boolean;
  /** @default `/${kind}` */
  path?: string;
  /** CometD's browser cookie. @default 'BAYEUX_BROWSER' */
  cookieName?: string;
}

export function bayeuxEngine(kind: BayeuxKind, options?: BayeuxEngineOptions): BayeuxEngine;
export function startBayeuxServer(kind: BayeuxKind, options?: BayeuxEngineOptions & { port?: number }): Promise<BayeuxServer>;
