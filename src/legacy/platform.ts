// The platform of the legacy bundle (dist/cometkit.legacy.umd.js, built by rollup.config.mjs): what
// the client takes when the page passes none. The modern bundles take `globalThis`, which engines
// before 2019 do not have (QtWebKit 5.212 among them); the legacy build substitutes `pageScope`
// for it, and `AbortController` for the global of that name, so the modern bundles carry nothing
// of this. Where the page has `fetch` and `AbortController`, `pageScope` is the page's own global
// scope; where it lacks either, it is the page's scope with a `fetch` of its own over
// XMLHttpRequest (the handshake, upstream sends and long polling are its only users), and
// `AbortController` a stand-in whose `abort()` aborts that XHR.
import type { Platform } from '../platform.ts';
import type { TabPlatform } from '../crosstab/messages.ts';

/** The page's global scope: `self` is the window in a page, the global scope in a worker. */
const scope = self as unknown as TabPlatform & { AbortController?: typeof AbortController };

/** Whether the page has what fetchJson (transports/request.ts) uses: then it runs as in the modern bundles. */
export const hasFetch = !!scope.fetch && !!scope.AbortController;

/** The part of an AbortSignal the fetch below listens to. */
interface StandInSignal {
  aborted: boolean;
  onabort: (() => void) | null;
}

/** Stands in for AbortController where the page has none: only `abort()` and the signal's `onabort`. */
class AbortStandIn {
  readonly signal: StandInSignal = { aborted: false, onabort: null };
  abort() {
    const { signal } = this;
    if (!signal.aborted) {
      signal.aborted = true;
      signal.onabort?.();
    }
  }
}

/** The controller fetchJson makes (substituted for the global `AbortController` in the legacy build). */
export const LegacyAbortController = (hasFetch ? scope.AbortController : AbortStandIn) as typeof AbortController;

/**
 * The part of fetch that fetchJson uses, over the page's XMLHttpRequest (`Xhr`): method, string body, headers,
 * credentials and a stand-in signal; the answer's status, headers and text. Like fetch, it
 * rejects on a failure below HTTP or an abort, and a string body goes as text/plain;charset=UTF-8
 * (a CORS simple request).
 */
const fetchByXhr = (Xhr: typeof XMLHttpRequest) => (url: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => new Promise((resolve, reject) => {
  const xhr = new Xhr();
  const signal = init.signal as unknown as StandInSignal | undefined;
  const headers = init.headers as Record<string, string>;
  const failed = () => { reject(new TypeError('request failed')); };
  // fetchJson (transports/request.ts) gives every member but the method of a GET.
  xhr.open(init.method ?? 'GET', url as string);
  xhr.withCredentials = init.credentials == 'include';
  for (const name in headers) xhr.setRequestHeader(name, headers[name] ?? '');
  xhr.onload = () => {
    const text = xhr.responseText;
    resolve({ status: xhr.status, headers: { get: (name: string) => xhr.getResponseHeader(name) }, text: () => Promise.resolve(text) } as unknown as Response);
  };
  xhr.onerror = xhr.onabort = xhr.ontimeout = failed;
  if (signal) {
    signal.onabort = () => {
      xhr.abort();
      failed();
    };
  }
  // [WebIDL] An undefined body is null: a GET sends none.
  xhr.send(init.body as string | undefined);
});

/**
 * The page's scope as the client's platform, with `fetch` over XHR where it is missing. Members
 * are called as methods of the platform, so the scope's functions are bound to it here.
 */
function legacyPlatform(): TabPlatform {
  if (hasFetch) return scope;
  const platform: TabPlatform = {
    setTimeout: (callback, delayMs) => scope.setTimeout(callback, delayMs),
    clearTimeout: (handle) => { scope.clearTimeout(handle); },
    Date: scope.Date,
    Math: scope.Math,
    XMLHttpRequest: scope.XMLHttpRequest,
    fetch: scope.XMLHttpRequest && fetchByXhr(scope.XMLHttpRequest),
    EventSource: scope.EventSource,
    document: scope.document,
    window: scope.window,
    ActiveXObject: scope.ActiveXObject,
    navigator: scope.navigator,
    BroadcastChannel: scope.BroadcastChannel,
    location: scope.location,
  };
  // Read when used, inside the negotiator's `try`: reading it throws where storage is disabled.
  Object.defineProperty(platform, 'localStorage', { get: () => scope.localStorage });
  return platform;
}

/** The client's default platform in the legacy bundle (one per page: the page's shared connections are keyed by it). */
export const pageScope: Platform = legacyPlatform();
