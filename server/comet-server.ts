// Assembles the server from its parts: options, hub (state, fan-out, timer), upstream
// (exactly-once application) and the node:http adapter.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServerInspection } from './hub.ts';
import { Hub } from './hub.ts';
import { HttpAdapter } from './http.ts';
import type { CometServerOptions } from './options.ts';
import { resolveOptions } from './options.ts';
import { Upstream } from './upstream.ts';

export interface CometServer {
  /**
   * A node:http request listener for everything under `options.path`; anything else gets a
   * `404 not-found` JSON answer. Mount it in an existing server or pass it to `createServer`.
   */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  /**
   * Pushes `data` (any JSON-serialisable value) to every session subscribed to `channel`, and
   * returns how many sessions it reached. Throws a TypeError for a malformed channel or data that
   * JSON cannot represent.
   */
  publish(channel: string, data: unknown): number;
  /**
   * Ends every open downstream response with `close` `shutdown`, stops the timer and drops every
   * session. Resolves when the responses are done; the process can exit afterwards.
   */
  close(): Promise<void>;
  /** A snapshot of sessions and connections, for tests and demos. */
  inspect(): ServerInspection;
}

export function createCometServer(options: CometServerOptions = {}): CometServer {
  const resolved = resolveOptions(options);
  const hub = new Hub(resolved);
  const adapter = new HttpAdapter(hub, new Upstream(hub, resolved), resolved);
  return {
    handler: adapter.handle,
    publish: (channel, data) => hub.publish(channel, data),
    close: () => hub.close(),
    inspect: () => hub.inspect(),
  };
}
