// The streamed body of a fetch(), read through its ReadableStream reader: each network chunk
// reaches script as it arrives, where an XHR's would wait for the 50 ms progress timer of
// Chromium and Firefox (body/xhr.ts). Only the line in progress is kept, never the whole text.
// Plain `then` chains, as in request.ts: the legacy build has no async functions.
import type { BodyReader } from './reader.ts';
import type { Platform } from '../../src/platform.ts';

/** The Platform with the globals this reader needs beyond its fetch. */
type StreamsPlatform = Platform & {
  readonly ReadableStream?: unknown;
  readonly TextDecoder?: typeof TextDecoder;
};

/**
 * Whether the engine hands a fetch body to script as it arrives (feature detection, never the
 * user agent): a `Response` body is a ReadableStream wherever the global exists, and TextDecoder
 * turns its bytes into text. Engines without them (QtWebKit 5.212, EdgeHTML, Firefox before 65)
 * read by XHR.
 */
export const streamsFetchBody = ({ fetch, ReadableStream, TextDecoder }: StreamsPlatform) => !!(fetch && ReadableStream && TextDecoder);

export const fetchBody: BodyReader = (platform, { url, withCredentials, headers }, sink) => {
  const controller = new AbortController();
  // [Encoding] `stream: true` holds back a character whose UTF-8 bytes are split between chunks;
  // the last call, without it, flushes (a cut character comes out as U+FFFD, in a cut line).
  const decoder = new (platform as Required<StreamsPlatform>).TextDecoder();
  const read = (reader: ReadableStreamDefaultReader<Uint8Array>): Promise<unknown> => reader.read().then(({ done, value }) =>
    sink.text(decoder.decode(value, { stream: !done }), done) && !done && read(reader));
  (platform as Required<Platform>).fetch(url, {
    headers, credentials: withCredentials ? 'include' : 'same-origin', signal: controller.signal,
  }).then((response) => sink.head(response.status, response.headers.get('Content-Type') ?? '') && read((response.body as ReadableStream<Uint8Array>).getReader()))
    // A failure below HTTP, a cut body, or an abort (which the sink, already ended, ignores).
    .catch(sink.failed);
  return () => { controller.abort(); };
};
