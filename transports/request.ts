// One-shot XHR exchanges: a single request answered by a single JSON value. The protocol layer uses
// them for the handshake and upstream sends (which it times out itself); long-polling is built on
// them. The script-tag equivalent (transports/script.ts) travels only with jsonp and iframe.
import type { Transport, TransportFailure, TransportName, TransportRequest } from './types.ts';
import type { Platform } from '../src/platform.ts';
import { fail, malformed, openXhr, requestFailed, unexpectedStatus, wrongType, type XhrRequest } from './shared.ts';

/**
 * The answer of a one-shot exchange. A refusal that carries a JSON body (the protocol's
 * `{"type":"error","code":...}`, with `retryMs` for 429 and 503) keeps it in `value`, and its
 * `code` becomes the failure's `detail`.
 */
export type OneShotResult =
  | { ok: true; value: unknown }
  | { ok: false; failure: TransportFailure; value?: unknown };

/** Starts a one-shot exchange; returns the function that ends it, after which `done` is not called. */
export type OneShot<Request> = (platform: Platform, request: Request, done: (result: OneShotResult) => void) => () => void;

export const failed = (failure: TransportFailure, value?: unknown): OneShotResult => ({ ok: false, failure, value });

function answer(xhr: XMLHttpRequest): OneShotResult {
  const { status } = xhr;
  const json = /^application\/json\s*(;|$)/i.test(xhr.getResponseHeader('Content-Type') ?? '');
  let value: { code?: unknown } | undefined;
  try {
    if (json) value = JSON.parse(xhr.responseText) as typeof value;
  } catch {
    // Reported below: a 2xx as malformed, an error status as itself.
  }
  // [XHR] A network error shows as status 0.
  return !status ? failed(requestFailed())
    : status > 199 && status < 300 ? value === undefined ? failed(json ? malformed() : wrongType(status)) : { ok: true, value }
    : failed(fail('http-status', typeof value?.code == 'string' ? value.code : unexpectedStatus, status), value);
}

/** One XHR answered with JSON (`application/json`). */
export const xhrJson: OneShot<XhrRequest> = (platform, request, done) =>
  openXhr(platform, request, (xhr) => {
    if (xhr.readyState > 3) done(answer(xhr));
  });

/**
 * A polling transport: each exchange is one one-shot request answered by a JSON array. `script`
 * marks a transport that reaches the endpoint by script, and brings the script upstream with it.
 */
export function pollingTransport(
  name: TransportName,
  resource: string,
  isSupported: (platform: Platform) => boolean,
  send: OneShot<TransportRequest>,
  script?: Transport['script'],
): Transport {
  return {
    name,
    resource,
    streaming: false,
    isSupported,
    script,
    open(platform, request, listener) {
      let closed = false;
      const abort = send(platform, request, (result) => {
        if (!result.ok) return listener.onEnd(result.failure);
        if (!Array.isArray(result.value)) return listener.onEnd(malformed());
        if (result.value.length) listener.onValues(result.value);
        // A listener may close the exchange on what it just received.
        if (!closed) listener.onEnd();
      });
      return {
        close() {
          closed = true;
          abort();
        },
      };
    },
  };
}
