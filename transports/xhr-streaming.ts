// XHR streaming (PROTOCOL.md §5.3 `xhr`): one long GET whose body is newline-delimited JSON, read
// as it arrives (through fetch where the engine streams a fetch body, else XHR: streamed.ts). The
// name is the protocol's. The server's 2048-byte prelude and its non-text/plain type with nosniff
// make Chromium hand an XHR's bytes over at once (docs/ENGINES.md).
import { streamedLines } from './streamed.ts';
import { undecodable } from './framing/lines.ts';

export const xhrStreaming = /*#__PURE__*/ streamedLines('xhr-streaming', 'xhr', (contentType) =>
  /^application\/x-ndjson\s*(;|$)/i.test(contentType)
    // Lines that are empty or white space (the prelude) carry nothing. The server ends every line
    // with LF: anything after the last one was cut.
    ? (line, last) => /\S/.test(line) ? last ? undecodable() : [JSON.parse(line) as unknown] : []
    : undefined);
