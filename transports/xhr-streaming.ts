// XHR streaming (PROTOCOL.md §5.3 `xhr`): one long GET whose body is newline-delimited JSON,
// read at every readyState 3 from where the last read stopped. The server's 2048-byte prelude and
// its non-text/plain type with nosniff make Chromium hand bytes over at once (BROWSERS.md).
import { lineReader } from '../src/framing/lines.ts';
import { streamingXhr } from './shared.ts';

export const xhrStreaming = /*#__PURE__*/ streamingXhr('xhr-streaming', 'xhr', (contentType) => {
  if (!/^application\/x-ndjson\s*(;|$)/i.test(contentType)) return undefined;
  const lines = lineReader();
  return {
    read(text, values) {
      for (const line of lines.read(text)) values.push(JSON.parse(line));
    },
    // The server ends every line with LF: anything after the last one was cut.
    complete: (text) => !/\S/.test(lines.rest(text)),
  };
});
