// multipart/x-mixed-replace framing (PROTOCOL.md §5.3, RFC 2046 §5.1.1) over a text that only
// grows, read from where it stopped. Each part's body is one line (PROTOCOL.md §3.3: a body never
// holds CR or LF), so a part is complete at the line break after its body. Waiting for the next
// delimiter instead would hold every batch back until the server writes the one after it.
import { lineReader } from './lines.ts';

export interface MultipartReader {
  /** The bodies of the parts completed by whatever `text` gained since the last call. */
  read(text: string): string[];
  /** Whether a stream that stopped at `text` stopped between parts rather than inside one. */
  complete(text: string): boolean;
}

export function multipartReader(boundary: string): MultipartReader {
  const lines = lineReader(true);
  const delimiter = '--' + boundary;
  // Where the last complete line left us: before a delimiter, in a part's headers, before its
  // body, or after the closing delimiter.
  let place: 'preamble' | 'headers' | 'body' | 'epilogue' = 'preamble';
  // [RFC 2046] A delimiter line is "--" boundary, then "--" for the last one, then optional
  // white space (transport padding).
  const delimiterEnd = (line: string) => line.startsWith(delimiter) ? /^(--)?\s*$/.exec(line.slice(delimiter.length)) : null;
  return {
    read(text) {
      const bodies: string[] = [];
      for (const line of lines.read(text)) {
        const match = place !== 'epilogue' && delimiterEnd(line);
        if (match) place = match[1] ? 'epilogue' : 'headers';
        else if (place === 'headers') {
          if (!line.trim()) place = 'body'; // the blank line after the part's headers
        } else if (place === 'body' && line.trim()) {
          bodies.push(line.trim());
          place = 'preamble'; // the CRLF and blank lines before the next delimiter
        }
      }
      return bodies;
    },
    complete(text) {
      const rest = lines.rest(text);
      // A closing delimiter needs no line break after it; any other unfinished line is cut.
      if (place !== 'epilogue' && delimiterEnd(rest)?.[1]) place = 'epilogue';
      return place === 'epilogue' || (place === 'preamble' && !rest.trim());
    },
  };
}
