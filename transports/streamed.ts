// A transport reading one long GET's body as it arrives, line by line (both streamed encodings,
// `xhr` and `multipart`, put their values on lines), through the body reader the engine allows
// (body/choice.ts, by feature detection, never the user agent: docs/ENGINES.md): fetch and a
// ReadableStream reader, or in the legacy bundle XMLHttpRequest at readyState 3 where fetch cannot
// stream. Both readers hand over the same text, so the wire format, the transport's name and its
// probe are the same whichever reads.
import { fail, type Transport, type TransportFailure, type TransportName } from './contract.ts';
import { chooseBodyReader } from './body/choice.ts';
import type { BodyReaderFor, BodySink } from './body/reader.ts';
import { lineReader, undecodable, type LineDecoder } from './framing/lines.ts';
import { malformed, requestFailed, unexpectedStatus, wrongType } from './shared.ts';

/** Gets a response's Content-Type header; undefined when it is not the encoding's type. */
export type DecoderFor = (contentType: string) => LineDecoder | undefined;

/**
 * `readerFor` is this build's choice of body reader; a test passes its own to run a transport
 * through the XHR reader where fetch streams (Node) or the fetch reader where it does not.
 */
export const streamedLines = (name: TransportName, resource: string, decoderFor: DecoderFor, readerFor: BodyReaderFor = chooseBodyReader): Transport => ({
  name,
  resource,
  streaming: true,
  isSupported: (platform) => !!readerFor(platform),
  open(platform, request, listener) {
    const lines = lineReader();
    /** Until the head shows the encoding's type, there is nothing to decode. */
    let decode: LineDecoder = undecodable;
    let live = true;
    let abort = (): void => undefined;
    const close = () => {
      live = false;
      abort();
    };
    const finish = (failure?: TransportFailure) => {
      // A listener may have closed the exchange on the values it just received.
      if (live) {
        close();
        listener.onEnd(failure);
      }
      return false;
    };
    const sink: BodySink = {
      head(status, contentType) {
        if (status != 200) return finish(fail('http-status', unexpectedStatus, status));
        // Typically a proxy's or captive portal's HTML page when there is no decoder: do not download it.
        const decoder = decoderFor(contentType);
        if (!decoder) return finish(wrongType(status));
        decode = decoder;
        return live;
      },
      text(chunk, complete) {
        const values: unknown[] = [];
        let failure: TransportFailure | undefined;
        try {
          for (const line of lines.read(chunk)) values.push(...decode(line));
          if (complete) decode(lines.rest(), true);
        } catch {
          failure = malformed();
        }
        if (values.length && live) listener.onValues(values);
        return failure || complete ? finish(failure) : live;
      },
      failed: () => finish(requestFailed()),
    };
    // Both readers report asynchronously (an XHR's events, a fetch's promises): nothing reaches the sink before this.
    // eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- open() follows isSupported(): there is a reader
    abort = readerFor(platform)!(platform, request, sink);
    return { close };
  },
});
