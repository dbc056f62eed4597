// One-shot exchanges: a single request answered by a single JSON value. The protocol layer uses
// them for the handshake and upstream sends; long-polling and jsonp are built on them.
import type { Transport, TransportFailure, TransportName, TransportRequest } from './types.ts';
import type { Platform, TimerHandle } from '../src/platform.ts';
import { callbackName, fail, malformed, mediaType, need, openXhr, requestFailed, setGlobal, unexpectedStatus, withParams, wrongType } from './shared.ts';

export interface OneShotRequest {
  url: string;
  method: 'GET' | 'POST';
  body?: string;
  contentType?: string;
  withCredentials: boolean;
  headers: Readonly<Record<string, string>>;
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

const timedOut = () => fail('network', 'timed out');

function answer(xhr: XMLHttpRequest): OneShotResult {
  const { status } = xhr;
  if (!status) return { ok: false, failure: requestFailed() };
  const json = mediaType(xhr) === 'application/json';
  let value: unknown;
  let parsed = false;
  if (json) {
    try {
      value = JSON.parse(xhr.responseText);
      parsed = true;
    } catch {
      // Reported below: a 2xx as malformed, an error status as itself.
    }
  }
  if (status >= 200 && status < 300) {
    return parsed ? { ok: true, value } : { ok: false, failure: json ? malformed() : wrongType(status) };
  }
  const code = (value as { code?: unknown } | undefined)?.code;
  const failure = fail('http-status', typeof code === 'string' ? code : unexpectedStatus, status);
  return parsed ? { ok: false, failure, value } : { ok: false, failure };
}

/** One XHR answered with JSON (`application/json`). */
export function xhrJson(platform: Platform, request: OneShotRequest, done: (result: OneShotResult) => void): OneShotExchange {
  let timer: TimerHandle;
  const abort = () => {
    platform.clearTimeout(timer);
    xhr.onreadystatechange = null;
    xhr.abort();
  };
  const xhr = openXhr(platform, request.method, request, () => {
    if (xhr.readyState < 4) return;
    platform.clearTimeout(timer);
    done(answer(xhr));
  });
  if (request.timeoutMs > 0) {
    timer = platform.setTimeout(() => {
      abort();
      done({ ok: false, failure: timedOut() });
    }, request.timeoutMs);
  }
  return { abort };
}

/**
 * One `<script>` answered with JSONP: adds `callback=NAME` to `url` and takes the value the script
 * passes to that global. Works across origins without CORS. A script that fails to load (the
 * status cannot be seen) is a `network` failure; one that loads without calling back is
 * `malformed` (for example a JSON error body, which nosniff also keeps from running).
 */
export function scriptJson(platform: Platform, url: string, timeoutMs: number, done: (result: OneShotResult) => void): OneShotExchange {
  const document = need(platform.document, 'document');
  const window = need(platform.window, 'window');
  const name = callbackName(platform);
  const script = document.createElement('script');
  let timer: TimerHandle;
  let result: OneShotResult | undefined;
  let ran = false; // the script ran or failed: nothing will call the global any more
  const abort = () => {
    platform.clearTimeout(timer);
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
    finish(result ?? { ok: false, failure: fail('malformed', 'no callback') });
  };
  script.onerror = () => {
    ran = true;
    finish({ ok: false, failure: requestFailed() });
  };
  script.async = true;
  script.src = withParams(url, { callback: name });
  document.head.appendChild(script);
  if (timeoutMs > 0) timer = platform.setTimeout(() => { finish({ ok: false, failure: timedOut() }); }, timeoutMs);
  return { abort };
}

/** A polling transport: each exchange is one one-shot request answered by a JSON array. */
export function pollingTransport(
  name: TransportName,
  resource: string,
  isSupported: (platform: Platform) => boolean,
  send: (platform: Platform, request: TransportRequest, done: (result: OneShotResult) => void) => OneShotExchange,
): Transport {
  return {
    name,
    resource,
    streaming: false,
    isSupported,
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
