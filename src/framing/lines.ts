// Newline-delimited framing over a text that only grows, such as an XHR's `responseText` during
// readyState 3. The reader remembers where it stopped, so every character is examined once however
// long the stream gets (a rescan from the start would make a long stream quadratic).
// LF ends a line; a CR before it is white space to JSON. PROTOCOL.md §3.3 guarantees that no raw
// CR or LF appears inside a serialised frame, which is what makes a line a frame.

export interface LineReader {
  /** The lines completed by whatever `text` gained since the last call, without their LF. */
  read(text: string): string[];
  /** What follows the last LF: a line the stream was cut in. Call it once the text is complete. */
  rest(text: string): string;
}

/** `keepBlank` keeps empty and white-space-only lines, which ndjson skips (the 2048-byte prelude). */
export function lineReader(keepBlank?: boolean): LineReader {
  let lineStart = 0; // where the line in progress begins
  let searched = 0; // how far the line in progress has been searched for its LF
  return {
    read(text) {
      const lines: string[] = [];
      for (let end; (end = text.indexOf('\n', searched)) >= 0; searched = lineStart = end + 1) {
        const line = text.slice(lineStart, end);
        if (keepBlank || /\S/.test(line)) lines.push(line);
      }
      searched = text.length;
      return lines;
    },
    rest: (text) => text.slice(lineStart),
  };
}
