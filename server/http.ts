// The node:http adapter: routing under the endpoint path, parameter checks in the order of
// PROTOCOL.md section 9, bounded body reading, and the handshake, downstream and send resources.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AnswerContext } from './answers.ts';
import { COMMON_HEADERS, PUSH_HEADERS, answer, answerError, answerJson, answerPreflight, answerRetryLater } from './answers.ts';
import type { Encoder, OutFrame } from './encodings.ts';
import { closeFrame, createEncoder, echoFrame } from './encodings.ts';
import { Downstream } from './downstream.ts';
import { authRefusalStatus } from './errors.ts';
import type { Hub } from './hub.ts';
import type { HandshakeInfo, ResolvedOptions, TransportName } from './options.ts';
import { ALL_TRANSPORTS } from './options.ts';
import { OriginJudge, stripCredentials } from './origins.ts';
import type { SendOutcome, Upstream } from './upstream.ts';
import { MAX_QUEUED_SENDS } from './upstream.ts';
import { checkMessages, decodeUtf8, isCallbackName, isEchoToken, isOriginForm, isSessionId, messagesOfBody, parseClientJson, parseSince } from './validate.ts';

type Query = ReadonlyMap<string, string>;

// A Map, not an object literal: a path like `/comet/constructor` must not find Object.prototype.
const METHODS: ReadonlyMap<string, readonly string[]> = new Map([
  ['handshake', ['GET', 'POST']],
  ['send', ['GET', 'POST']],
  ...ALL_TRANSPORTS.map((transport): [string, string[]] => [transport, ['GET']]),
]);

export class HttpAdapter {
  #hub: Hub;
  #upstream: Upstream;
  #options: ResolvedOptions;
  #origins: OriginJudge;

  constructor(hub: Hub, upstream: Upstream, options: ResolvedOptions) {
    this.#hub = hub;
    this.#upstream = upstream;
    this.#options = options;
    this.#origins = new OriginJudge(options, (error) => options.onError(error, 'origin'));
  }

  /** The node:http request listener. Never throws, never answers 500. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    // A client that aborts at any stage must not crash the process with an unhandled 'error'.
    req.on('error', ignore);
    res.on('error', ignore);
    this.#route(req, res).catch((error: unknown) => {
      this.#options.onError(error, 'request handler');
      if (res.headersSent) res.destroy();
      else answerError({ res, cors: {} }, 'bad-request');
    });
  };

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = splitTarget(req.url ?? '/');
    const prefix = `${this.#options.path}/`;
    const resource = target.path.startsWith(prefix) ? target.path.slice(prefix.length) : undefined;
    const methods = resource === undefined ? undefined : METHODS.get(resource);
    if (resource === undefined || methods === undefined || (isTransport(resource) && !this.#options.transports.includes(resource))) {
      return answerError({ res, cors: {} }, 'not-found');
    }
    const verdict = this.#origins.judge(req);
    if (!verdict.allowed) return answerError({ res, cors: {} }, 'forbidden-origin');
    const ctx: AnswerContext = { res, cors: verdict.cors };
    const method = req.method ?? 'GET';
    if (method === 'OPTIONS') return answerPreflight(ctx, req);
    if (!methods.includes(method)) {
      return answerError(ctx, 'method-not-allowed', {}, { Allow: [...methods, 'OPTIONS'].join(', ') });
    }
    const query = parseQuery(target.search);
    if (query === undefined) return answerError(ctx, 'bad-request');
    if (resource === 'handshake') return this.#handshake(req, ctx, query);
    if (resource === 'send') return this.#send(req, ctx, query);
    return this.#downstream(resource as TransportName, req, ctx, query);
  }

  /** Section 4. */
  async #handshake(req: IncomingMessage, ctx: AnswerContext, query: Query): Promise<void> {
    if (req.method === 'POST') req.resume(); // the body is ignored: discard it without buffering
    const version = query.get('v');
    if (version === undefined) return answerError(ctx, 'bad-request');
    if (version !== '1') return answerError(ctx, 'unsupported-version');
    const callback = query.get('callback');
    if (callback !== undefined && !isCallbackName(callback)) return answerError(ctx, 'bad-callback');
    if (!this.#hub.acceptsSessions()) return answerRetryLater(ctx, 'too-many-sessions', this.#options.retryMs);
    const info = this.#credentialsCheck(req, callback !== undefined);
    let principal: unknown;
    if (this.#options.authenticate !== undefined) {
      try {
        principal = await this.#options.authenticate(req, info);
      } catch (error) {
        const status = authRefusalStatus(error);
        if (status === undefined) this.#options.onError(error, 'authenticate');
        return answerError(ctx, status === 403 ? 'forbidden' : 'unauthorized');
      }
      if (principal === false) return answerError(ctx, 'unauthorized');
    }
    // The client may have left, or the server filled or closed, while the hook ran.
    if (isGone(ctx.res)) return;
    if (!this.#hub.acceptsSessions()) return answerRetryLater(ctx, 'too-many-sessions', this.#options.retryMs);
    const session = this.#hub.createSession(principal, req);
    const o = this.#options;
    const json = JSON.stringify({
      type: 'handshake',
      v: 1,
      session: session.id,
      seq: session.seq,
      transports: o.transports,
      heartbeatMs: o.heartbeatMs,
      holdMs: o.holdMs,
      retryMs: o.retryMs,
      maxStreamBytes: o.maxStreamBytes,
      sessionTimeoutMs: o.sessionTimeoutMs,
      maxBatchMessages: o.maxBatchMessages,
      maxBodyBytes: o.maxBodyBytes,
      echo: true,
    });
    answerJson(ctx, json, callback);
  }

  /** Section 5.2. Synchronous from request to open response, so no abort can slip in between. */
  #downstream(transport: TransportName, req: IncomingMessage, ctx: AnswerContext, query: Query): void {
    const sessionId = query.get('session');
    if (sessionId === undefined) return answerError(ctx, 'bad-request');
    if (!isSessionId(sessionId)) return answerError(ctx, 'bad-session-id');
    const scripted = transport === 'iframe' || transport === 'jsonp';
    const callback = query.get('callback');
    if (scripted && callback === undefined) return answerError(ctx, 'bad-request');
    if (scripted && callback !== undefined && !isCallbackName(callback)) return answerError(ctx, 'bad-callback');
    const origin = transport === 'iframe' ? query.get('origin') : undefined;
    if (origin !== undefined && !(isOriginForm(origin) && this.#origins.isAllowedPageOrigin(origin))) return answerError(ctx, 'forbidden-origin');
    // Section 5.2: for `sse` a native EventSource reconnect carries its resume point in Last-Event-ID.
    const sinceText = query.get('since') ?? (transport === 'sse' ? lastEventId(req) : undefined);
    const since = sinceText === undefined ? undefined : parseSince(sinceText);
    if (since === undefined) return answerError(ctx, 'bad-since');
    const encoder = createEncoder(transport, { retryMs: this.#options.retryMs, callback, origin });
    if (this.#hub.closed) return answerOneFrame(ctx, encoder, closeFrame('shutdown', this.#options.retryMs));
    const session = this.#hub.sessions.get(sessionId);
    // Not an HTTP error (sections 5.2, 9): every transport, script ones included, can read it.
    if (session === undefined) return answerOneFrame(ctx, encoder, closeFrame('unknown-session'));
    if (since > session.seq) return answerError(ctx, 'bad-since');
    const headers = { ...COMMON_HEADERS, ...PUSH_HEADERS, ...ctx.cors, ...encoder.headers };
    // A cut forever frame raises no event in some engines: its client finds the cut by the silence.
    const { heartbeatMs, frameHeartbeatMs } = this.#options;
    this.#hub.openDownstream(session, ctx.res, encoder, headers, since, transport === 'iframe' ? Math.min(heartbeatMs, frameHeartbeatMs) : heartbeatMs);
  }

  /**
   * Section 10: a request whose answer or effect can reach a page not proven allowed (script
   * carried, or a CORS request under `'*'`) loses its Cookie and Authorization before any hook
   * sees it. Requests without Origin that are not script carried stay as they are: only the
   * endpoint's own origin can read their answer (a non-browser client holds its credentials anyway).
   */
  #credentialsCheck(req: IncomingMessage, scriptCarried: boolean): HandshakeInfo {
    const { pageOrigin, proof } = this.#origins.provenance(req);
    const credentials = proof !== undefined || (req.headers.origin === undefined && !scriptCarried);
    if (!credentials) stripCredentials(req);
    return { via: scriptCarried ? 'script' : 'fetch', pageOrigin, proof, credentials };
  }

  /** Section 6.2. */
  async #send(req: IncomingMessage, ctx: AnswerContext, query: Query): Promise<void> {
    const sessionId = query.get('session');
    if (sessionId === undefined) return answerError(ctx, 'bad-request');
    if (!isSessionId(sessionId)) return answerError(ctx, 'bad-session-id');
    const callback = query.get('callback');
    if (callback !== undefined && !isCallbackName(callback)) return answerError(ctx, 'bad-callback');
    const echo = query.get('echo');
    if (echo !== undefined && !isEchoToken(echo)) return answerError(ctx, 'bad-request');
    // The GET form exists for script transports: any page can make it (section 10).
    this.#credentialsCheck(req, req.method === 'GET');
    // Counted from the start, body reading included: inspect() reports requests truly open.
    const counted = this.#hub.sessions.get(sessionId);
    let counting = counted !== undefined;
    const uncount = (): void => {
      if (counting) counted?.requestEnded();
      counting = false;
    };
    counted?.requestStarted();
    ctx.res.once('close', uncount);
    try {
      const text = req.method === 'GET' ? query.get('messages') : await this.#readText(req, ctx);
      if (text === undefined) {
        if (req.method === 'GET') answerError(ctx, 'bad-request');
        return;
      }
      const parsed = parseClientJson(text);
      if (!parsed.ok) return answerError(ctx, parsed.code);
      const value = req.method === 'GET' ? parsed.value : messagesOfBody(parsed.value);
      const checked = checkMessages(value, this.#options);
      if (!checked.ok) return answerError(ctx, checked.code);
      if (this.#hub.closed) return answerJson(ctx, closeFrame('shutdown', this.#options.retryMs).json, callback);
      const session = this.#hub.sessions.get(sessionId);
      if (session === undefined) return answerJson(ctx, closeFrame('unknown-session').json, callback);
      if (session.queuedSends >= MAX_QUEUED_SENDS) return answerRetryLater(ctx, 'rate-limited', this.#options.retryMs);
      const outcome = await this.#upstream.send(session, checked.messages, req);
      // Section 7.1: the echo leaves on the stream before the answer, so the client can time the one against the other.
      const stream = session.downstream;
      const echoed = echo === undefined ? undefined : stream instanceof Downstream && stream.echo(echoFrame(echo), performance.now());
      this.#answerSend(ctx, outcome, callback, echoed);
    } finally {
      uncount();
    }
  }

  #answerSend(ctx: AnswerContext, outcome: SendOutcome, callback: string | undefined, echoed: boolean | undefined): void {
    switch (outcome.kind) {
      case 'ack':
        return answerJson(ctx, JSON.stringify({ type: 'ack', ack: outcome.ack, errors: outcome.errors, echoed }), callback);
      case 'rate-limited':
        return answerRetryLater(ctx, 'rate-limited', outcome.retryMs);
      case 'unknown-session': {
        // The session ended while the send waited: by shutdown, or (rarely) by expiry.
        const frame = this.#hub.closed ? closeFrame('shutdown', this.#options.retryMs) : closeFrame('unknown-session');
        return answerJson(ctx, frame.json, callback);
      }
    }
  }

  /** A POST body as text, or `undefined` once an error was answered (or the client left). */
  async #readText(req: IncomingMessage, ctx: AnswerContext): Promise<string | undefined> {
    if (!isUpstreamMediaType(req.headers['content-type'])) {
      answerError(ctx, 'unsupported-media-type');
      return undefined;
    }
    const body = await readBody(req, this.#options.maxBodyBytes);
    if (body === 'too-large') {
      // The rest of the body is never read: close the connection rather than drain it.
      answerError(ctx, 'body-too-large', {}, { Connection: 'close' });
      return undefined;
    }
    if (body === 'aborted') return undefined;
    const text = decodeUtf8(body);
    if (text === undefined) answerError(ctx, 'bad-json');
    return text;
  }
}

function answerOneFrame(ctx: AnswerContext, encoder: Encoder, frame: OutFrame): void {
  answer(ctx, 200, { ...PUSH_HEADERS, ...encoder.headers }, encoder.head + encoder.batch([frame]) + encoder.tail);
}

/**
 * Reads at most `maxBytes`. Past the bound it stops keeping data at once (memory stays bounded
 * whatever Content-Length claims) and reports `too-large`.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | 'too-large' | 'aborted'> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.resolve('too-large');
  return new Promise((resolve) => {
    let chunks: Buffer[] = [];
    let totalBytes = 0;
    const settle = (result: Buffer | 'too-large' | 'aborted'): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onAbort);
      req.off('error', onAbort);
      chunks = [];
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      totalBytes += chunk.length;
      if (totalBytes > maxBytes) settle('too-large');
      else chunks.push(chunk);
    };
    const onEnd = (): void => settle(Buffer.concat(chunks, totalBytes));
    const onAbort = (): void => settle('aborted');
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onAbort);
    req.on('error', onAbort);
  });
}

/** Section 6.2: `text/plain` (a CORS simple request) or `application/json`, any parameters. */
function isUpstreamMediaType(contentType: string | undefined): boolean {
  const essence = contentType?.split(';', 1)[0]?.trim().toLowerCase();
  return essence === 'text/plain' || essence === 'application/json';
}

/**
 * Section 3.1: percent-encoded UTF-8, each parameter at most once. Returns `undefined` for a
 * repeated parameter, a malformed escape or bytes that are not UTF-8 (URLSearchParams would
 * silently keep or replace those).
 */
export function parseQuery(search: string): Query | undefined {
  const query = new Map<string, string>();
  for (const pair of search.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const name = decodeComponent(equals === -1 ? pair : pair.slice(0, equals));
    const value = decodeComponent(equals === -1 ? '' : pair.slice(equals + 1));
    if (name === undefined || value === undefined || query.has(name)) return undefined;
    query.set(name, value);
  }
  return query;
}

function decodeComponent(text: string): string | undefined {
  try {
    // Form encoding: `+` is a space (encodeURIComponent never produces a bare `+`).
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

function splitTarget(url: string): { path: string; search: string } {
  const queryStart = url.indexOf('?');
  const path = queryStart === -1 ? url : url.slice(0, queryStart);
  const search = queryStart === -1 ? '' : url.slice(queryStart + 1);
  return { path, search };
}

function lastEventId(req: IncomingMessage): string | undefined {
  const value = req.headers['last-event-id'];
  return typeof value === 'string' ? value.trim() : undefined;
}

function isTransport(resource: string): resource is TransportName {
  return (ALL_TRANSPORTS as readonly string[]).includes(resource);
}

/** A method-free check, so that it is not narrowed away after an `await`. */
function isGone(res: ServerResponse): boolean {
  return res.destroyed;
}

function ignore(): void {
  // Such errors also end the request; its 'close' handling does the cleanup.
}
