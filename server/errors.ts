// The HTTP errors of PROTOCOL.md section 9, with fixed messages: no message ever repeats input,
// so an error body can never reflect markup or script a client sent.

export type ErrorCode =
  | 'bad-request' | 'unsupported-version' | 'bad-session-id' | 'bad-since' | 'bad-callback'
  | 'bad-json' | 'forbidden-key' | 'unauthorized' | 'forbidden' | 'forbidden-origin' | 'not-found'
  | 'method-not-allowed' | 'body-too-large' | 'batch-too-large' | 'message-too-large'
  | 'unsupported-media-type' | 'rate-limited' | 'too-many-sessions';

export const ERRORS: Readonly<Record<ErrorCode, { readonly status: number; readonly message: string }>> = {
  'bad-request': { status: 400, message: 'A parameter is missing, repeated or malformed.' },
  'unsupported-version': { status: 400, message: 'This server speaks protocol version 1.' },
  'bad-session-id': { status: 400, message: 'The session parameter is not a session id.' },
  'bad-since': { status: 400, message: 'since must be an integer from 0 to the session seq.' },
  'bad-callback': { status: 400, message: 'The callback parameter is not a valid function name.' },
  'bad-json': { status: 400, message: 'The messages are not JSON of the upstream message form.' },
  'forbidden-key': { status: 400, message: 'The JSON holds a forbidden key.' },
  unauthorized: { status: 401, message: 'The handshake was not authenticated.' },
  forbidden: { status: 403, message: 'The handshake was refused.' },
  'forbidden-origin': {
    status: 403,
    // Names what to check: a proxy that rewrites Host makes every same-origin page look foreign.
    message: 'The page origin (the Origin header, or the iframe origin parameter) is neither this endpoint\'s public origin nor ' +
      'listed in allowedOrigins. Behind a proxy: pass the browser\'s Host header through (nginx: proxy_set_header Host ' +
      '$http_host) or set the server option publicOrigin. A page on another origin: list that origin in allowedOrigins.',
  },
  'not-found': { status: 404, message: 'No such resource.' },
  'method-not-allowed': { status: 405, message: 'This resource does not accept this method.' },
  'body-too-large': { status: 413, message: 'The request body is too large.' },
  'batch-too-large': { status: 413, message: 'The request holds too many messages.' },
  'message-too-large': { status: 413, message: 'A message data is too large.' },
  'unsupported-media-type': { status: 415, message: 'The body must be text/plain or application/json.' },
  'rate-limited': { status: 429, message: 'Too many messages; retry after retryMs.' },
  'too-many-sessions': { status: 503, message: 'The server holds its maximum of sessions.' },
};

/**
 * Thrown (or rejected) by an `authenticate` hook to refuse a handshake with 401 `unauthorized`
 * or 403 `forbidden`. Any error object with a `status` (or `statusCode`) of 401 or 403 works alike.
 */
export class CometAuthError extends Error {
  readonly status: 401 | 403;

  constructor(status: 401 | 403 = 401, message = status === 401 ? 'unauthorized' : 'forbidden') {
    super(message);
    this.name = 'CometAuthError';
    this.status = status;
  }
}

/** The status a refusal from `authenticate` asks for, or `undefined` for an unexpected error. */
export function authRefusalStatus(error: unknown): 401 | 403 | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { status, statusCode } = error as { status?: unknown; statusCode?: unknown };
  const value = status ?? statusCode;
  return value === 401 || value === 403 ? value : undefined;
}
