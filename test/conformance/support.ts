// Test support for the conformance suite: a reference server on 127.0.0.1, raw node:http requests,
// downstream readers that parse each encoding incrementally (framing.ts), and a session client
// that numbers upstream messages as PROTOCOL.md §6.1 asks. No cometkit client code is used.
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import { Downstream, openDownstream, withTimeout, type OpenOptions } from './downstream.ts';
import type { Frame, Transport } from './framing.ts';

export * from './framing.ts';
export * from './downstream.ts';

/** The server API as the brief describes it; typed here so the suite does not depend on server/ types. */
export interface CometServer {
  handler(req: http.IncomingMessage, res: http.ServerResponse): unknown;
  publish(channel: string, data: unknown): number;
  close(): Promise<void>;
  inspect(): Inspection;
}

export interface Inspection {
  sessions: number;
  openDownstream: number;
  perSession: { id: string; subscriptions: unknown; seq: number; buffered: number; inFlight: number; maxInFlight: number; downstreamRequests: number }[];
}

export type ServerOptions = Record<string, unknown>;

// Loaded by URL so that type-checking this folder does not depend on the state of server/.
const serverEntry = new URL('../../server/index.ts', import.meta.url).href;

export async function createCometServer(options: ServerOptions): Promise<CometServer> {
  const module = (await import(serverEntry)) as { createCometServer(options: ServerOptions): CometServer };
  return module.createCometServer(options);
}

export const endpointPath = '/comet';

/** Small timings keep the suite fast; waits in tests are event-driven with generous bounds. */
export const fastTimings = { heartbeatMs: 150, holdMs: 300, retryMs: 50 } as const;

export interface TestServer {
  comet: CometServer;
  http: http.Server;
  port: number;
  /** `http://127.0.0.1:PORT`, the endpoint's own origin. */
  origin: string;
  agent: http.Agent;
  /** Every response with status >= 500, and every exception the handler threw. */
  serverErrors: string[];
  /** The server side of every connection, to watch how many bytes the server queues on each. */
  serverSockets: Set<Socket>;
  stop(): Promise<void>;
}

export async function startServer(options: ServerOptions = {}): Promise<TestServer> {
  const comet = await createCometServer({ path: endpointPath, ...fastTimings, ...options });
  const serverErrors: string[] = [];
  const server = http.createServer((req, res) => {
    res.on('finish', () => {
      if (res.statusCode >= 500) serverErrors.push(`${res.statusCode} for ${req.method} ${req.url}`);
    });
    try {
      const result = comet.handler(req, res);
      if (result instanceof Promise) result.catch((error: unknown) => serverErrors.push(`handler rejected: ${String(error)}`));
    } catch (error) {
      serverErrors.push(`handler threw: ${String(error)}`);
      res.destroy();
    }
  });
  const serverSockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    serverSockets.add(socket);
    socket.once('close', () => serverSockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  let stopped = false;
  return {
    comet,
    http: server,
    port,
    origin: `http://127.0.0.1:${port}`,
    agent,
    serverErrors,
    serverSockets,
    async stop() {
      if (stopped) return;
      stopped = true;
      await withTimeout(comet.close(), 10_000, 'comet.close()').catch(() => undefined);
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Waits, by re-checking on a short interval, until `condition` holds; fails after `ms`. */
export async function eventually(condition: () => boolean, label: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting until ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) search.append(key, String(value));
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string | number>;
  body?: string | Buffer;
  timeoutMs?: number;
}

/** One request to the test server; `path` is taken as is (it may hold repeated or raw parameters). */
export async function request(server: TestServer, path: string, options: RequestOptions = {}): Promise<RawResponse> {
  const { method = 'GET', headers = {}, body, timeoutMs = 15_000 } = options;
  const req = http.request({ host: '127.0.0.1', port: server.port, path, method, headers, agent: server.agent });
  const response = once(req, 'response') as Promise<[http.IncomingMessage]>;
  req.end(body);
  const [res] = await withTimeout(response, timeoutMs, `${method} ${path}`);
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  await withTimeout(once(res, 'end'), timeoutMs, `the body of ${method} ${path}`);
  const bytes = Buffer.concat(chunks);
  const text = bytes.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode ?? 0, headers: res.headers, body: bytes, text, json };
}

export interface Handshake {
  type: 'handshake';
  v: number;
  session: string;
  seq: number;
  transports: string[];
  heartbeatMs: number;
  holdMs: number;
  retryMs: number;
  maxStreamBytes: number;
  sessionTimeoutMs: number;
  maxBatchMessages: number;
  maxBodyBytes: number;
}

export async function handshake(server: TestServer, headers: Record<string, string> = {}): Promise<Handshake> {
  const response = await request(server, `${endpointPath}/handshake?v=1`, { headers });
  if (response.status !== 200) throw new Error(`handshake answered ${response.status}: ${response.text}`);
  return response.json as Handshake;
}

export type UpstreamMessage =
  | { id: number; type: 'subscribe' | 'unsubscribe'; channel: string }
  | { id: number; type: 'publish'; channel: string; data: unknown };

/** Messages without ids; the session client numbers them. */
export type UnnumberedMessage =
  | { type: 'subscribe' | 'unsubscribe'; channel: string }
  | { type: 'publish'; channel: string; data: unknown };

export interface Ack {
  type: 'ack';
  ack: number;
  errors: { id: number; code: string }[];
}

export async function sendBatch(server: TestServer, session: string, messages: unknown[], headers: Record<string, string> = {}): Promise<RawResponse> {
  return request(server, `${endpointPath}/send${query({ session })}`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain;charset=UTF-8', ...headers },
    body: JSON.stringify({ messages }),
  });
}

export interface AbortedRequest {
  /** Bytes of the body actually written before the abort. */
  bytesSent: number;
}

/**
 * Sends a request and destroys it at a chosen moment: `'headers-sent'` (only the head),
 * `'mid-body'` (part of a longer declared body), `'body-sent'` (the whole body, answer never read)
 * or `'response'` (as soon as response headers arrive).
 */
export async function abortedRequest(
  server: TestServer,
  path: string,
  options: { method?: string; headers?: Record<string, string | number>; body?: string; at: 'headers-sent' | 'mid-body' | 'body-sent' | 'response' },
): Promise<AbortedRequest> {
  const { method = 'POST', headers = {}, body = '', at } = options;
  const bytes = Buffer.from(body);
  // A fresh connection: an aborted socket must not be handed back to the shared agent.
  const req = http.request({ host: '127.0.0.1', port: server.port, path, method, headers: { 'content-length': bytes.length, ...headers }, agent: false });
  req.on('error', () => undefined);
  // Not events.once: it would reject on the 'error' the abort itself causes.
  const closed = new Promise<void>((resolve) => req.once('close', () => resolve()));
  let bytesSent = 0;
  if (at === 'headers-sent') {
    req.flushHeaders();
    setImmediate(() => req.destroy());
  } else if (at === 'mid-body') {
    bytesSent = Math.floor(bytes.length / 2);
    req.write(bytes.subarray(0, bytesSent), () => setImmediate(() => req.destroy()));
  } else if (at === 'body-sent') {
    bytesSent = bytes.length;
    req.end(bytes, () => setImmediate(() => req.destroy()));
  } else {
    bytesSent = bytes.length;
    req.once('response', () => req.destroy());
    req.end(bytes);
  }
  await withTimeout(closed, 10_000, `the aborted ${method} ${path} to close`);
  return { bytesSent };
}

/** A session with its own upstream message numbering (§6.1). */
export class SessionClient {
  #nextId = 1;
  #opened: Downstream[] = [];
  constructor(
    readonly server: TestServer,
    readonly hello: Handshake,
  ) {}

  static async create(server: TestServer): Promise<SessionClient> {
    return new SessionClient(server, await handshake(server));
  }

  get session(): string {
    return this.hello.session;
  }

  get nextId(): number {
    return this.#nextId;
  }

  number(messages: UnnumberedMessage[]): UpstreamMessage[] {
    return messages.map((message) => ({ ...message, id: this.#nextId++ }));
  }

  /** Sends a numbered batch and requires a 200 ack. */
  async sendNumbered(messages: UpstreamMessage[]): Promise<Ack> {
    const response = await sendBatch(this.server, this.session, messages);
    if (response.status !== 200) throw new Error(`send answered ${response.status}: ${response.text}`);
    return response.json as Ack;
  }

  async send(messages: UnnumberedMessage[]): Promise<Ack> {
    return this.sendNumbered(this.number(messages));
  }

  async subscribe(...channels: string[]): Promise<Ack> {
    return this.send(channels.map((channel) => ({ type: 'subscribe' as const, channel })));
  }

  async publish(channel: string, ...data: unknown[]): Promise<Ack> {
    return this.send(data.map((item) => ({ type: 'publish' as const, channel, data: item })));
  }

  async open(transport: Transport, options: OpenOptions = {}): Promise<Downstream> {
    const stream = await openDownstream(this.server, transport, this.session, options);
    this.#opened.push(stream);
    return stream;
  }
}

/** "a" or "an" before a transport name read aloud in a test title. */
export function article(transport: string): 'a' | 'an' {
  return /^(sse|xhr)$/.test(transport) ? 'an' : 'a';
}

/** msg frames' data, in order of arrival. */
export function dataOf(frames: Frame[]): unknown[] {
  return frames.filter((frame) => frame.type === 'msg').map((frame) => frame.data);
}

export function seqsOf(frames: Frame[]): number[] {
  return frames.filter((frame) => frame.type === 'msg').map((frame) => frame.seq as number);
}

/**
 * Checks §5.1 on one response: msg seqs rise by exactly 1 from `since + 1`, and a gap accounts
 * for every number it skips. Returns the highest number accounted for.
 */
export function assertContiguous(frames: Frame[], since: number, label = 'frames'): number {
  let expected = since + 1;
  for (const frame of frames) {
    if (frame.type === 'msg') {
      if (frame.seq !== expected) throw new Error(`${label}: msg seq ${String(frame.seq)} where ${expected} was due; ${describe(frames)}`);
      expected++;
    } else if (frame.type === 'gap') {
      if (frame.from !== expected || typeof frame.to !== 'number' || frame.to < expected) throw new Error(`${label}: gap ${String(frame.from)}..${String(frame.to)} where ${expected} was due`);
      expected = frame.to + 1;
    }
  }
  return expected - 1;
}

function describe(frames: Frame[]): string {
  return JSON.stringify(frames.map((frame) => (frame.type === 'msg' ? frame.seq : frame.type === 'gap' ? `gap ${String(frame.from)}..${String(frame.to)}` : frame.type)));
}

/** The numbers `from..to` inclusive. */
export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, index) => from + index);
}

/** A well-formed session id no server issued (128 random bits would never collide with it). */
export const unknownSessionId = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

export const closeUnknownSession = { type: 'close', code: 'unknown-session', reconnect: 'handshake' } as const;
export const closeReplaced = { type: 'close', code: 'replaced', reconnect: 'none' } as const;

export function errorBody(response: RawResponse): { type?: unknown; code?: unknown; message?: unknown; retryMs?: unknown } {
  return (response.json ?? {});
}
