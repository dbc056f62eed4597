// XHR streaming (PROTOCOL.md §5.3 `xhr`): one long GET whose body is newline-delimited JSON,
// read at every readyState 3 from where the last read stopped. The server's 2048-byte prelude and
// its non-text/plain type with nosniff make Chromium hand bytes over at once (docs/ENGINES.md).
import { streamingXhr } from './shared.ts';
import { undecodable } from './framing/lines.ts';

export const xhrStreaming = /*#__PURE__*/ streamingXhr('xhr-streaming', 'xhr', (contentType) =>
  /^application\/x-ndjson\s*(;|$)/i.test(contentType)
    // Lines that are empty or white space (the prelude) carry nothing. The server ends every line
    // with LF: anything after the last one was cut.
    ? (line, last) => /\S/.test(line) ? last ? undecodable() : [JSON.parse(line) as unknown] : []
    : undefined);
