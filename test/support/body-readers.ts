// The two ways xhr-streaming and multipart read a streamed body (transports/streamed.ts), each on a
// platform that has only its own: XHR at readyState 3 in a jsdom page (jsdom has no fetch), and
// fetch with a ReadableStream reader, Node's own, answered by the same msw handlers. A transport
// suite runs once per reader and must see the same behaviour from both. The modern bundles carry
// the fetch reader alone (transports/body/choice.ts); the XHR reader is the legacy bundle's
// (src/legacy/body-reader.ts), so its case composes both transports with it explicitly.
import { getResponse, type RequestHandler } from 'msw';
import { browserPlatform, type Platform } from '../../src/platform.ts';
import type { Transport } from '../../transports/contract.ts';
import { xhrBody } from '../../transports/body/xhr.ts';
import { streamedLines } from '../../transports/streamed.ts';
import { ndjsonLines, xhrStreaming } from '../../transports/xhr-streaming.ts';
import { multipart, multipartLines } from '../../transports/multipart.ts';
import { mockedPage, type Page } from './dom.mjs';

/** What a fetch stand-in saw of one request. */
export interface SeenFetch {
  url: string;
  init: RequestInit | undefined;
}

/**
 * fetch answered by msw's `handlers`, as an engine's fetch behaves for what the transports use: a
 * network error (or no handler) rejects; an abort of the signal rejects the pending fetch and errors
 * the body a reader is reading, and cancels the response body (the server sees the client go).
 */
export function fetchFrom(handlers: RequestHandler[], seen: SeenFetch[] = []): typeof fetch {
  return async (input, init) => {
    const url = typeof input == 'string' ? input : input instanceof URL ? input.href : input.url;
    seen.push({ url, init });
    const signal = init?.signal ?? undefined;
    const answer = await getResponse(handlers, new Request(url, { method: init?.method, headers: init?.headers }));
    if (!answer || answer.type == 'error') throw new TypeError('network error');
    const source = answer.body?.getReader();
    if (signal?.aborted) {
      source?.cancel().catch(() => undefined);
      throw new DOMException('aborted', 'AbortError');
    }
    const body = source && new ReadableStream<Uint8Array>({
      start(controller) {
        signal?.addEventListener('abort', () => {
          controller.error(new DOMException('aborted', 'AbortError'));
          // A body that failed already rejects its cancel with its failure.
          source.cancel().catch(() => undefined);
        });
      },
      pull: (controller) => source.read().then(({ done, value }) => {
        if (done) controller.close();
        else controller.enqueue(value);
      }, (error: unknown) => { controller.error(error); }),
      cancel: (reason) => source.cancel(reason),
    });
    return new Response(body, { status: answer.status, headers: answer.headers });
  };
}

/** A platform with fetch and its streams, and no XMLHttpRequest. */
export function fetchPlatform(handlers: RequestHandler[], seen?: SeenFetch[]): Platform & { ReadableStream: unknown; TextDecoder: unknown } {
  return {
    setTimeout: (callback, ms) => setTimeout(callback, ms),
    clearTimeout: (handle) => { clearTimeout(handle as NodeJS.Timeout); },
    Date,
    Math,
    fetch: fetchFrom(handlers, seen),
    ReadableStream,
    TextDecoder,
  };
}

export interface BodyReaderCase {
  /** How the suite names the reader. */
  name: string;
  /** Whether the engine, not the stand-in, enforces CORS here (jsdom does). */
  cors: boolean;
  /** A page at http://app.test/ whose streamed requests `handlers` answer through this reader. */
  platformFor: (handlers: RequestHandler[]) => Platform;
  /** The two streamed transports, reading through this reader. */
  xhrStreaming: Transport;
  multipart: Transport;
  /** Ends what `platformFor` made. */
  close: () => void;
}

/** One case per reader; each keeps the page it made until `close`. */
export function bodyReaderCases(): BodyReaderCase[] {
  let page: Page | undefined;
  return [
    {
      name: 'XMLHttpRequest at readyState 3 (jsdom, which has no fetch)',
      cors: true,
      platformFor(handlers) {
        page = mockedPage({ url: 'http://app.test/', handlers });
        return browserPlatform(page.window);
      },
      xhrStreaming: streamedLines('xhr-streaming', 'xhr', ndjsonLines, () => xhrBody),
      multipart: streamedLines('multipart', 'multipart', multipartLines, () => xhrBody),
      close: () => { page?.close(); },
    },
    {
      name: 'fetch and a ReadableStream reader',
      cors: false,
      platformFor: (handlers) => fetchPlatform(handlers),
      // As the bundles build them: the fetch reader is every build's choice where fetch streams.
      xhrStreaming,
      multipart,
      close: () => undefined,
    },
  ];
}
