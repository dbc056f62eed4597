// Writing whole (non-streaming) answers: errors of PROTOCOL.md section 9, JSON or JSONP bodies,
// and preflights (section 10; origins.ts decides the CORS headers).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorCode } from './errors.ts';
import { ERRORS } from './errors.ts';
import { jsonpBody } from './encodings.ts';

/** Section 3.2: on every response, push and error alike. */
export const COMMON_HEADERS: Readonly<Record<string, string>> = {
  'Cache-Control': 'no-cache, no-store, no-transform',
  'X-Content-Type-Options': 'nosniff',
  // Answers depend on the Origin header (CORS headers or 403), so caches must key on it.
  Vary: 'Origin',
};

/** Section 3.2: push responses also ask proxies not to buffer. */
export const PUSH_HEADERS: Readonly<Record<string, string>> = { 'X-Accel-Buffering': 'no' };

const JSON_TYPE = 'application/json; charset=utf-8';
const SCRIPT_TYPE = 'application/javascript; charset=utf-8';

export interface AnswerContext {
  readonly res: ServerResponse;
  /** CORS headers for this request's origin (empty for same-origin and origin-less requests). */
  readonly cors: Readonly<Record<string, string>>;
}

/** Writes a whole body once; a client that already left is simply not written to. */
export function answer(ctx: AnswerContext, status: number, headers: Record<string, string>, body: string): void {
  const { res } = ctx;
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    ...COMMON_HEADERS,
    ...ctx.cors,
    ...headers,
    'Content-Length': String(Buffer.byteLength(body)),
  });
  res.end(body);
}

/** Section 9: fixed text only, so no input is ever reflected. */
export function answerError(ctx: AnswerContext, code: ErrorCode, extra: Record<string, string | number> = {}, headers: Record<string, string> = {}): void {
  const { status, message } = ERRORS[code];
  answer(ctx, status, { 'Content-Type': JSON_TYPE, ...headers }, JSON.stringify({ type: 'error', code, message, ...extra }));
}

/** A 200 JSON answer, or JSONP when a validated callback was given (section 3.5). */
export function answerJson(ctx: AnswerContext, json: string, callback: string | undefined): void {
  if (callback === undefined) answer(ctx, 200, { 'Content-Type': JSON_TYPE }, json);
  else answer(ctx, 200, { 'Content-Type': SCRIPT_TYPE }, jsonpBody(callback, json));
}

/** 429 and 503 carry `retryMs` in the body and, for generic clients, a Retry-After in seconds. */
export function answerRetryLater(ctx: AnswerContext, code: 'rate-limited' | 'too-many-sessions', retryMs: number): void {
  answerError(ctx, code, { retryMs }, { 'Retry-After': String(Math.max(1, Math.ceil(retryMs / 1000))) });
}

/** Header names a preflight may ask for: a comma-separated list of RFC 9110 tokens. */
const HEADER_LIST_FORM = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:[ \t]*,[ \t]*[!#$%&'*+.^_`|~0-9A-Za-z-]+)*$/;

/** Section 10: a preflight allows GET and POST and the headers it asks for. */
export function answerPreflight(ctx: AnswerContext, req: IncomingMessage): void {
  const requested = req.headers['access-control-request-headers'];
  const headers: Record<string, string> = {
    Allow: 'GET, POST, OPTIONS',
    'Access-Control-Allow-Methods': 'GET, POST',
    'Access-Control-Max-Age': '600',
  };
  if (requested !== undefined && HEADER_LIST_FORM.test(requested.trim())) {
    headers['Access-Control-Allow-Headers'] = requested.trim();
  }
  if (!ctx.res.headersSent && !ctx.res.destroyed) {
    ctx.res.writeHead(204, { ...COMMON_HEADERS, ...ctx.cors, ...headers });
    ctx.res.end();
  }
}
