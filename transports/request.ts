// One-shot exchanges: a single request answered by a single JSON value. The protocol layer uses
// them for the handshake and upstream sends; long-polling and jsonp are built on them. `scriptJson`
// reaches a bundle only with the transports that bring it (jsonp, iframe): see `Transport.script`.
import type { Transport, TransportFailure, TransportName, TransportRequest } from './types.ts';
import type { Platform, TimerHandle } from '../src/platform.ts';
import { callbackName, fail, malformed, mediaType, need, openXhr, requestFailed, setGlobal, unexpectedStatus, withParams, wrongType, type XhrRequest } from './shared.ts';

export interface OneShotRequest extends XhrRequest {
  /** Gives up after this long with a `network` failure; 0 waits as long as the request lasts. */
  timeoutMs: number;
}

/**
 * The answer of a one-shot exchange. A refusal that carries a JSON body (the protocol's
 * `{"type":"error","code":...}`, with `retryMs` for 429 and 503) keeps it in `value`, and its
 * `code` becomes the failure's `detail`.
 */
export type OneShotResult =
  | { ok: true; value: unknown }
  | { ok: false; failure: TransportFailure; value?: unknown };

export interface OneShotExchange {
  /** Ends the exchange now; `done` is not called. */
  abort(): void;
}

export type ScriptJson = (platform: Platform, url: string, timeoutMs: number, done: (result: OneShotResult) => void) => OneShotExchange;

const failed = (failure: TransportFailure, value?: unknown): OneShotResult =>
  value === undefined ? { ok: false, failure } : { ok: false, failure, value };

/** Calls `expire` after `timeoutMs` (never when it is 0); returns the function that cancels it. */
function deadline(platform: Platform, timeoutMs: number, expire: () => void): () => void {
  const timer: TimerHandle = timeoutMs > 0 ? platform.setTimeout(expire, timeoutMs) : undefined;
  return () => { platform.clearTimeout(timer); };
}

const timedOut = () => failed(fail('network', 'timed out'));

function answer(xhr: XMLHttpRequest): OneShotResult {
  const { status } = xhr;
  if (!status) return failed(requestFailed());
  const json = mediaType(xhr) == 'application/json';
  let value: unknown;
  try {
    if (json) value = JSON.parse(xhr.responseText) as unknown;
  } catch {
    // Reported below: a 2xx as malformed, an error status as itself.
  }
  if (status > 199 && status < 300) return value === undefined ? failed(json ? malformed() : wrongType(status)) : { ok: true, value };
  const code = (value as { code?: unknown } | undefined)?.code;
  return failed(fail('http-status', typeof code == 'string' ? code : unexpectedStatus, status), value);
}

/** One XHR answered with JSON (`application/json`). */
export function xhrJson(platform: Platform, request: OneShotRequest, done: (result: OneShotResult) => void): OneShotExchange {
  let cancel: () => void = () => undefined;
  const stop = openXhr(platform, request, (xhr) => {
    if (xhr.readyState < 4) return;
    cancel();
    done(answer(xhr));
  });
  const abort = () => {
    cancel();
    stop();
  };
  cancel = deadline(platform, request.timeoutMs, () => {
    abort();
    done(timedOut());
  });
  return { abort };
}

/**
 * One `<script>` answered with JSONP: adds `callback=NAME` to `url` and takes the value the script
 * passes to that global. Works across origins without CORS. A script that fails to load (the
 * status cannot be seen) is a `network` failure; one that loads without calling back is
 * `malformed` (for example a JSON error body, which nosniff also keeps from running).
 */
export const scriptJson: ScriptJson = (platform, url, timeoutMs, done) => {
  const document = need(platform.document, 'document');
  const window = need(platform.window, 'window');
  const name = callbackName(platform);
  const script = document.createElement('script');
  let result: OneShotResult | undefined;
  let ran = false; // the script ran or failed: nothing will call the global any more
  const abort = () => {
    cancel();
    script.onload = script.onerror = null;
    script.remove();
    // Removing a script element does not stop a download in progress, and a script that arrives
    // later would throw on a missing global: leave it a stand-in that removes itself.
    setGlobal(window, name, ran ? undefined : () => { setGlobal(window, name); });
  };
  const finish = (outcome: OneShotResult) => {
    abort();
    done(outcome);
  };
  setGlobal(window, name, (value: unknown) => {
    ran = true;
    result = { ok: true, value };
  });
  // [HTML] A classic script runs, then its element fires `load`: the callback has run by then.
  script.onload = () => {
    ran = true;
    finish(result ?? failed(malformed('no callback')));
  };
  script.onerror = () => {
    ran = true;
    finish(failed(requestFailed()));
  };
  script.async = true;
  script.src = withParams(url, { callback: name });
  const cancel = deadline(platform, timeoutMs, () => { finish(timedOut()); });
  document.head.appendChild(script);
  return { abort };
};

/**
 * A polling transport: each exchange is one one-shot request answered by a JSON array. `script`
 * marks a transport that reaches the endpoint by script, and brings the script upstream with it.
 */
export function pollingTransport(
  name: TransportName,
  resource: string,
  isSupported: (platform: Platform) => boolean,
  send: (platform: Platform, request: TransportRequest, done: (result: OneShotResult) => void) => OneShotExchange,
  script?: ScriptJson,
): Transport {
  return {
    name,
    resource,
    streaming: false,
    isSupported,
    script,
    open(platform, request, listener) {
      let closed = false;
      const exchange = send(platform, request, (result) => {
        if (!result.ok) return listener.onEnd(result.failure);
        if (!Array.isArray(result.value)) return listener.onEnd(malformed());
        if (result.value.length) listener.onValues(result.value);
        // A listener may close the exchange on what it just received.
        if (!closed) listener.onEnd();
      });
      return {
        close() {
          closed = true;
          exchange.abort();
        },
      };
    },
  };
}
