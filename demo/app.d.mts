// Types for the demo server (plain JavaScript, run by node after the build), for the demo tests.
import type { CometServer, CometServerOptions } from '../server/index.ts';

export interface Demo {
  /** `http://host:port/` of the pages. */
  readonly url: string;
  readonly port: number;
  /** The port of the cross-origin endpoint. */
  readonly crossPort: number;
  readonly comet: CometServer;
  readonly chat: { snapshot(): Record<string, string[]>; sessionsOf(nick: string): string[] };
  close(): Promise<void>;
}

export function startDemo(options?: {
  host?: string;
  port?: number;
  crossPort?: number;
  historySize?: number;
  /** How long a nickname no tab holds stays in its room (a reload), ms; default 5000. */
  leaveGraceMs?: number;
  cometOptions?: CometServerOptions;
}): Promise<Demo>;
