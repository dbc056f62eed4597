// The forever frame (PROTOCOL.md §5.3 `iframe`): a hidden iframe loads a document that never ends
// quickly, and each `<script>` the server appends passes a JSON array of values up to this page:
// by a direct call to our global when page and endpoint share an origin, by postMessage otherwise.
// Where ActiveXObject('htmlfile') works (old IE) the iframe lives in an htmlfile document, which
// keeps the page from showing a busy cursor for as long as the frame loads.
import type { Transport, TransportExchange, TransportFailure, TransportListener, TransportRequest } from './types.ts';
import type { Platform } from '../src/platform.ts';
import { callbackName, malformed, setGlobal, withParams } from './shared.ts';
import { byScript } from './script.ts';

/** The parts of an IE htmlfile object we use: a document with the window it belongs to. */
type HtmlFile = Document & { readonly parentWindow: Window };

function htmlfile(platform: Platform): HtmlFile | undefined {
  const ActiveX = platform.ActiveXObject;
  if (!ActiveX) return undefined;
  try {
    const file = new ActiveX('htmlfile') as HtmlFile;
    file.open();
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- an htmlfile is only ever built this way
    file.write('<html><body></body></html>');
    file.close();
    return file;
  } catch {
    return undefined; // ActiveX disabled by policy: the page's own document will do
  }
}

function open(platform: Platform, request: TransportRequest, listener: TransportListener): TransportExchange {
  const { document, window } = platform as Required<Platform>;
  const name = callbackName(platform);
  const endpoint = new URL(request.url, window.location.href);
  const pageOrigin = window.location.origin;
  const crossOrigin = endpoint.origin !== pageOrigin;
  const file = htmlfile(platform);
  const host = file ?? document; // the document the iframe lives in
  const hostWindow = file?.parentWindow ?? window; // the frame's `parent`: where it delivers
  const iframe = host.createElement('iframe');
  let done = false;
  let delivered = false;

  const deliver = (values: unknown) => {
    if (done) return;
    if (!Array.isArray(values)) {
      finish(malformed());
      return;
    }
    delivered = true;
    if (values.length) listener.onValues(values);
  };
  const onMessage = (event: MessageEvent) => {
    const data = event.data as { cometkit?: unknown; frames?: unknown } | null;
    // Only our own frame, loaded from the endpoint, may speak for it.
    if (event.origin === endpoint.origin && event.source === iframe.contentWindow && data?.cometkit === name) {
      deliver(data.frames);
    }
  };
  const stop = () => {
    done = true;
    iframe.onload = null;
    hostWindow.removeEventListener('message', onMessage);
    setGlobal(hostWindow, name);
    iframe.src = 'about:blank'; // stops a document still loading, where removal alone does not
    iframe.remove();
  };
  const finish = (failure?: TransportFailure) => {
    if (done) return;
    stop();
    listener.onEnd(failure);
  };

  if (crossOrigin) hostWindow.addEventListener('message', onMessage);
  else setGlobal(hostWindow, name, deliver);
  // The document ended. Every response starts with a frame (`open` or `close`), so a document
  // that delivered nothing was something else: an error page, a proxy's page.
  iframe.onload = () => { finish(delivered ? undefined : malformed('nothing delivered')); };
  iframe.style.display = 'none';
  // An htmlfile document has no base URL: give the frame an absolute one.
  iframe.src = withParams(endpoint.href, crossOrigin ? { callback: name, origin: pageOrigin } : { callback: name });
  // `body` is null while a script in the page's head runs.
  ((host.body as HTMLElement | null) ?? host.documentElement).appendChild(iframe);
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
