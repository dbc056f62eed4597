// multipart/x-mixed-replace (PROTOCOL.md §5.3 `multipart`): one long GET, each part's body a JSON
// array of values, read as it arrives (streamed.ts). WebKit cannot expose this type's streamed body
// (docs/ENGINES.md: a fetch body read fails, an XHR ends with status 0), so there the exchange fails
// like a network error and the negotiator, which probes rather than sniffs the user agent, moves on.
import { multipartReader } from './framing/multipart.ts';
import { streamedLines, type DecoderFor } from './streamed.ts';

/** The decoder of a multipart/x-mixed-replace body's lines, for the boundary its type names. */
export const multipartLines: DecoderFor = (contentType) => {
  // [RFC 2046 §5.1.1] The boundary parameter, quoted or not.
  const boundary = /^multipart\/x-mixed-replace\s*;.*\bboundary="?([^";]+)"?/i.exec(contentType)?.[1];
  return boundary ? multipartReader(boundary.trim()) : undefined;
};

export const multipart = /*#__PURE__*/ streamedLines('multipart', 'multipart', multipartLines);
