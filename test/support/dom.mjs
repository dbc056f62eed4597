// jsdom pages for the transport unit tests (docs/ENGINES.md, "jsdom, for the unit tests"): jsdom's XHR has its own
// network stack, so msw answers it through a jsdom request interceptor; script and iframe
// transports run against real HTTP servers on loopback instead.
import { createServer } from 'node:http';
import { JSDOM, VirtualConsole, requestInterceptor } from 'jsdom';
import { getResponse } from 'msw';

/** A page at `url` whose requests msw's `handlers` answer; unmatched ones fail as network errors. */
export function mockedPage({ url, handlers }) {
  const dom = new JSDOM('<!DOCTYPE html><html><head></head><body></body></html>', {
    url,
    virtualConsole: new VirtualConsole(),
    resources: {
      interceptors: [
        requestInterceptor(async (request) => {
          const response = await getResponse(handlers, request);
          // jsdom takes a rejection, not Response.error(), for a network error.
          if (!response || response.type === 'error') throw new TypeError('network error');
          return response;
        }),
      ],
    },
  });
  return { window: dom.window, close: () => dom.window.close() };
}

/** A page at `url` that loads and runs scripts and frames from the network. */
export function scriptedPage({ url }) {
  const errors = [];
  const virtualConsole = new VirtualConsole();
  virtualConsole.on('jsdomError', (error) => errors.push(error));
  const dom = new JSDOM('<!DOCTYPE html><html><head></head><body></body></html>', {
    url,
    runScripts: 'dangerously',
    resources: 'usable',
    virtualConsole,
  });
  return { window: dom.window, errors, close: () => dom.window.close() };
}

/** An HTTP server on 127.0.0.1 that records the URLs it was asked for. */
export async function serve(handler) {
  const requests = [];
  const server = createServer((req, res) => {
    requests.push(new URL(req.url ?? '/', 'http://127.0.0.1'));
    handler(req, res);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
