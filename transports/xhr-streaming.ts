// XHR streaming (PROTOCOL.md §5.3 `xhr`): one long GET whose body is newline-delimited JSON, read
// as it arrives (through fetch; in the legacy bundle through XHR where fetch cannot stream:
// streamed.ts). The name is the protocol's. The server's 2048-byte prelude and its non-text/plain type with nosniff
// make Chromium hand an XHR's bytes over at once (docs/ENGINES.md).
import { streamedLines, type DecoderFor } from './streamed.ts';
import { undecodable } from './framing/lines.ts';

/** The decoder of the `xhr` encoding's lines. */
export const ndjsonLines: DecoderFor = (contentType) =>
  /^application\/x-ndjson\s*(;|$)/i.test(contentType)
    // Lines that are empty or white space (the prelude) carry nothing. The server ends every line
    // with LF: anything after the last one was cut.
    ? (line, last) => /\S/.test(line) ? last ? undecodable() : [JSON.parse(line) as unknown] : []
    : undefined;

export const xhrStreaming = /*#__PURE__*/ streamedLines('xhr-streaming', 'xhr', ndjsonLines);
