// multipart/x-mixed-replace (PROTOCOL.md §5.3 `multipart`): one long GET, each part's body a JSON
// array of values, read at every readyState 3. WebKit cannot expose this type's streamed body
// (docs/ENGINES.md: the XHR ends with status 0), so there the exchange fails like a network error and
// the negotiator, which probes rather than sniffs the user agent, moves on.
import { multipartReader } from './framing/multipart.ts';
import { streamingXhr } from './shared.ts';

export const multipart = /*#__PURE__*/ streamingXhr('multipart', 'multipart', (contentType) => {
  // [RFC 2046 §5.1.1] The boundary parameter, quoted or not.
  const boundary = /^multipart\/x-mixed-replace\s*;.*\bboundary="?([^";]+)"?/i.exec(contentType)?.[1];
  return boundary ? multipartReader(boundary.trim()) : undefined;
});
