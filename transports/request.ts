// One-shot exchanges over fetch: a single request answered by a single JSON value. The protocol
// layer uses them for the handshake and upstream sends; long-polling is built on them. Every engine
// that runs the ES2020 bundle has fetch and AbortController. The script-tag equivalent
// (transports/script.ts) travels only with jsonp and iframe.
import { fail, type OneShot, type Transport, type TransportExchange, type TransportListener, type TransportRequest } from './contract.ts';
import type { Platform } from '../src/platform.ts';
import { malformed, requestFailed, unexpectedStatus, wrongType } from './shared.ts';

export interface FetchRequest extends TransportRequest {
  /** A POST of this body when given, a GET otherwise. */
  readonly body?: string | undefined;
  /** Gives up after this long, like a network error. */
  readonly timeoutMs?: number | undefined;
}

/**
 * One fetch answered with JSON (`application/json`). [Fetch] A string body goes as
 * `text/plain;charset=UTF-8`, which keeps a POST a CORS simple request: no preflight (§6.2). A
 * failure below HTTP, an abort by the timeout or a body cut short rejects: `network`. Plain `then`
 * chains: a platform's fetch may settle at once (the test platform's does), and the answer follows.
 */
export const fetchJson: OneShot<FetchRequest> = (platform, { url, body, withCredentials, headers, timeoutMs }, done) => {
  const controller = new AbortController();
  let live = true;
  const stop = () => {
    live = false;
    platform.clearTimeout(timer);
    controller.abort();
  };
  const timer = timeoutMs && platform.setTimeout(() => { controller.abort(); }, timeoutMs);
  void (platform as Required<Platform>).fetch(url, {
    method: body && 'POST', body, headers, credentials: withCredentials ? 'include' : 'same-origin', signal: controller.signal,
  }).then((response) => response.text().then((text) => {
    const { status } = response;
    const json = /^application\/json\s*(;|$)/i.test(response.headers.get('Content-Type') ?? '');
    let value: { code?: unknown; retryMs?: number } | undefined;
    try {
      if (json) value = JSON.parse(text) as typeof value;
    } catch {
      // Reported below: a 2xx as malformed, an error status as itself.
    }
    return status > 199 && status < 300 ? [value === undefined ? json ? malformed() : wrongType(status) : undefined, value] as const
      : [fail('http-status', typeof value?.code == 'string' ? value.code : unexpectedStatus, status, value?.retryMs)] as const;
  })).catch(() => [requestFailed()] as const).then(([failure, value]) => {
    if (live) {
      stop();
      done(failure, value);
    }
  });
  return stop;
};

/** What a polling transport is made of (see `pollingTransport`). */
export interface PollingTransportOptions extends Pick<Transport, 'name' | 'resource' | 'isSupported' | 'script'> {
  /** One exchange: a one-shot request answered by a JSON array. */
  exchange: OneShot<TransportRequest>;
}

/**
 * A polling transport: each exchange is one one-shot request answered by a JSON array. `script`
 * marks a transport that reaches the endpoint by script, and brings the script upstream with it.
 */
export const pollingTransport = ({ exchange, ...transport }: PollingTransportOptions): Transport => ({
  ...transport,
  streaming: false,
  open: polls(exchange, (value) => Array.isArray(value) ? value : undefined),
});

/**
 * A polling transport's `open`: one exchange of `exchange`, its answer as `values` reads it
 * (undefined: not of the expected form, a `malformed` failure) delivered, then the end. Both
 * protocols' polls use it.
 */
export const polls = <Request>(exchange: OneShot<Request>, values: (value: unknown) => unknown[] | undefined) =>
  (platform: Platform, request: Request, listener: TransportListener): TransportExchange => {
    let closed = false;
    const abort = exchange(platform, request, (failure, value) => {
      if (failure) return listener.onEnd(failure);
      const read = values(value);
      if (!read) return listener.onEnd(malformed());
      if (read.length) listener.onValues(read);
      // A listener may close the exchange on what it just received.
      if (!closed) listener.onEnd();
    });
    return {
      close() {
        closed = true;
        abort();
      },
    };
  };
