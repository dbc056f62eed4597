// multipart/x-mixed-replace framing (PROTOCOL.md §5.3, RFC 2046 §5.1.1), read line by line from a
// lineReader. Each part's body is one line (PROTOCOL.md §3.3: a body never holds CR or LF), so a
// part is complete at the line break after its body. Waiting for the next delimiter instead would
// hold every batch back until the server writes the one after it.
import { undecodable, type LineDecoder } from './lines.ts';

/** Decodes each part's body, a JSON array of values. */
export function multipartReader(boundary: string): LineDecoder {
  const delimiter = '--' + boundary;
  // Where the last complete line left us: 0 before a delimiter (the preamble, or the CRLF and blank
  // lines after a body), 1 in a part's headers, 2 before its body, 3 after the closing delimiter.
  let place = 0;
  return (line, last) => {
    // [RFC 2046] A delimiter line is "--" boundary, then "--" for the last one, then optional
    // white space (transport padding).
    line = line.replace(/\s+$/, '');
    if (place < 3 && line == delimiter + '--') place = 3;
    else if (last) {
      // The stream stopped here: cleanly between parts or after the closing delimiter (which needs
      // no line break after it), or cut inside a part or a delimiter line.
      if (place % 3 || (line && !place)) undecodable();
    } else if (place < 3 && line == delimiter) place = 1;
    else if (place == 1) {
      if (!line) place = 2; // the blank line after the part's headers
    } else if (place == 2 && line) {
      place = 0;
      const batch: unknown = JSON.parse(line);
      return Array.isArray(batch) ? batch as unknown[] : undecodable();
    }
    return [];
  };
}
