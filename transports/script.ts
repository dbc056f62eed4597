// The script upstream (PROTOCOL.md §6.2, §10): a page on another origin than the endpoint, without a
// CORS grant, reaches it by `<script>` only, so its handshake and sends go as JSONP GETs, each URL
// under 2,000 characters. jsonp and iframe bring it (`Transport.script`); an application without
// them carries none of this.
import { fail, type OneShot, type OneShotDone, type ScriptUpstream, type Upstream } from './contract.ts';
import { callbackName, malformed, requestFailed, setGlobal, withParams } from './shared.ts';
import type { Platform } from '../src/platform.ts';

/** Browsers and proxies all accept URLs under 2,000 characters (§6.2). */
export const MAX_URL_LENGTH = 2000;

/** What `&callback=NAME` (callbackName in shared.ts) may add to a URL. */
const CALLBACK_ROOM = 40;

export interface ScriptRequest {
  readonly url: string;
  /** Gives up after this long, like a network error; 0: never. @default 0 */
  readonly timeoutMs?: number | undefined;
  /**
   * The query parameters that name the callback (Bayeux's callback-polling names it `jsonp`).
   * @default (name) => ({ callback: name })
   */
  readonly query?: ((name: string) => Record<string, string>) | undefined;
}

/**
 * One `<script>` answered with JSONP: adds `callback=NAME` to the URL (or the parameters `query`
 * makes of the name) and takes the value the script passes to that global. Works across origins
 * without CORS. A script that fails to load (the status cannot be seen) is a `network` failure;
 * one that loads without calling back is `malformed` (for example a JSON error body, which
 * nosniff also keeps from running).
 */
export const scriptJson: OneShot<ScriptRequest> = (platform, { url, timeoutMs = 0, query = (name) => ({ callback: name }) }, done) => {
  const { document, window } = platform as Required<Platform>;
  const name = callbackName(platform);
  const script = document.createElement('script');
  /** What the script passed to the callback, once it has. */
  let result: { value: unknown } | undefined;
  /** `ran`: the script ran or failed, so nothing will call the global any more. */
  const abort = (ran?: boolean) => {
    platform.clearTimeout(timer);
    script.onload = script.onerror = null;
    script.remove();
    // Removing a script element does not stop a download in progress, and a script that arrives
    // later would throw on a missing global: leave it a stand-in that removes itself.
    setGlobal(window, name, ran || result ? undefined : () => { setGlobal(window, name); });
  };
  const finish: OneShotDone = (failure, value) => {
    abort(true);
    done(failure, value);
  };
  setGlobal(window, name, (value: unknown) => {
    result = { value };
  });
  // [HTML] A classic script runs, then its element fires `load`: the callback has run by then.
  script.onload = () => { finish(result ? undefined : malformed(), result?.value); };
  script.onerror = () => { finish(requestFailed()); };
  // [HTML] A script element made by script is async already.
  script.src = withParams(url, query(name));
  // Gives up like a fetch whose timeout passed (request.ts): a network failure.
  const timer = timeoutMs && platform.setTimeout(() => {
    abort();
    done(fail('network', 'timed out'));
  }, timeoutMs);
  document.head.appendChild(script);
  return abort;
};

/** The script upstream over a given one-shot (tests pass a scripted one). */
export const scriptUpstream = (request: typeof scriptJson): ScriptUpstream => ({ platform, endpoint, transports, direct, log, timeoutMs }) => {
  // [URL] A serialised origin is lower case already.
  const page = platform.window?.location.origin;
  const origin = /^https?:\/\/[^/?#]+/i.exec(endpoint)?.[0].toLowerCase();
  const crossOrigin = !!page && !!origin && origin != page;
  // Cross-origin without CORS, a page reaches the endpoint by script only (§10): so when only
  // script transports are wanted or the engine has no fetch, or (see send) once a fetch handshake fails.
  let scriptOnly = crossOrigin && (!platform.fetch || transports.every((transport) => transport.script));
  const byScript: Upstream = (url, done, messages) => {
    // The callback name scriptJson adds is unique; `t` is the protocol's cache buster all the same (§3.1).
    if (messages) url = withParams(url, { messages, t: platform.Date.now().toString(36) });
    // A send too long for a URL even with the `&callback=NAME` to come is refused as such, at once:
    // loading it would fail below HTTP again and again. `batchMessages` splits batches before that
    // (see room); without it, one large message gets here.
    if (url.length + CALLBACK_ROOM > MAX_URL_LENGTH) {
      done(fail('http-status', 'too-large', 414));
      return () => undefined;
    }
    return request(platform, { url, timeoutMs }, done);
  };
  return {
    send(url, done, messages) {
      if (scriptOnly) return byScript(url, done, messages);
      let abort = direct(url, (failure, value) => {
        if (failure?.type == 'network' && crossOrigin && !messages) {
          // A handshake that fails below HTTP most likely has no CORS grant: by script from now on.
          log('upstream', 'script');
          scriptOnly = true;
          abort = byScript(url, done);
        } else done(failure, value);
      }, messages);
      return () => { abort(); };
    },
    get scriptOnly() {
      return scriptOnly;
    },
    // 100: room for `&messages=`, the encoded brackets, `&t=` and the `&callback=NAME` scriptJson adds.
    room: (sendUrl) => scriptOnly ? MAX_URL_LENGTH - sendUrl.length - 100 : undefined,
  };
};

export const byScript = /*#__PURE__*/ scriptUpstream(scriptJson);
