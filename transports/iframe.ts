// The forever frame (PROTOCOL.md §5.3 `iframe`): a hidden iframe loads a document that never ends
// quickly, and each `<script>` the server appends passes a JSON array of values up to this page:
// by a direct call to our global when page and endpoint share an origin, by postMessage otherwise.
// Where ActiveXObject('htmlfile') works (old IE) the iframe lives in an htmlfile document, which
// keeps the page from showing a busy cursor for as long as the frame loads.
import type { Transport, TransportExchange, TransportFailure, TransportListener, TransportRequest } from './contract.ts';
import type { Platform } from '../src/platform.ts';
import { callbackName, malformed, setGlobal, withParams } from './shared.ts';
import { byScript } from './script.ts';

/** The parts of an IE htmlfile object we use: a document with the window it belongs to. */
type HtmlFile = Document & { readonly parentWindow: Window };

function htmlfile(platform: Platform): HtmlFile | undefined {
  try {
    // Without ActiveXObject this throws a TypeError, as it does with ActiveX disabled by policy:
    // the page's own document will do.
    const file = new (platform as Required<Platform>).ActiveXObject('htmlfile') as HtmlFile;
    file.open();
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- an htmlfile is only ever built this way
    file.write('<html><body></body></html>');
    file.close();
    return file;
  } catch {
    return undefined;
  }
}

function open(platform: Platform, request: TransportRequest, listener: TransportListener): TransportExchange {
  const { document, window } = platform as Required<Platform>;
  const name = callbackName(platform);
  const page = window.location.origin;
  const { origin, href } = new URL(request.url, window.location.href);
  const crossOrigin = origin != page;
  const file = htmlfile(platform);
  const host = file ?? document; // the document the iframe lives in
  const parent = file?.parentWindow ?? window; // the frame's `parent`: where it delivers
  const frame = host.createElement('iframe');
  let delivered: unknown;

  // Once stopped, nothing can call these: the global and the message listener are gone with the frame.
  const deliver = (values: unknown) => {
    if (!Array.isArray(values)) finish(malformed());
    else if ((delivered = values).length) listener.onValues(values);
  };
  const onMessage = ({ data, origin: from, source }: MessageEvent) => {
    // Only our own frame, loaded from the endpoint, may speak for it.
    if (from == origin && source == frame.contentWindow && (data as { cometkit?: unknown } | null)?.cometkit === name) {
      deliver((data as { frames?: unknown }).frames);
    }
  };
  const stop = () => {
    frame.onload = null;
    parent.removeEventListener('message', onMessage);
    setGlobal(parent, name);
    frame.src = 'about:blank'; // stops a document still loading, where removal alone does not
    frame.remove();
  };
  const finish = (failure?: TransportFailure) => {
    stop();
    listener.onEnd(failure);
  };

  if (crossOrigin) parent.addEventListener('message', onMessage);
  else setGlobal(parent, name, deliver);
  // The document ended. Every response starts with a frame (`open` or `close`), so a document
  // that delivered nothing was something else: an error page, a proxy's page.
  frame.onload = () => { finish(delivered ? undefined : malformed()); };
  frame.style.display = 'none';
  // An htmlfile document has no base URL: give the frame an absolute one.
  frame.src = withParams(href, crossOrigin ? { callback: name, origin: page } : { callback: name });
  // `body` is null while a script in the page's head runs.
  ((host.body as HTMLElement | null) ?? host.documentElement).appendChild(frame);
  return { close: stop };
}

export const iframe: Transport = {
  name: 'iframe',
  resource: 'iframe',
  streaming: true,
  isSupported: (platform) => !!platform.document && !!platform.window,
  open,
  // Cross-origin without CORS, the handshake and sends go by script too (PROTOCOL.md §10).
  script: byScript,
};
