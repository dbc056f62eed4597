// Newline-delimited framing over a text that only grows, such as an XHR's `responseText` during
// readyState 3. The reader remembers where it stopped, so every character is examined once however
// long the stream gets (a rescan from the start would make a long stream quadratic).
// LF ends a line; a CR before it is white space to JSON. PROTOCOL.md §3.3 guarantees that no raw
// CR or LF appears inside a serialised frame, which is what makes a line a frame.

/** Its functions use no `this`: they may be called on their own. */
export interface LineReader {
  /** The lines completed by whatever `text` gained since the last call, without their LF, blank ones included. */
  read: (text: string) => string[];
  /** What follows the last LF: the line the stream was cut in (call it once the text is complete). */
  rest: (text: string) => string;
}

/**
 * Decodes one line of a streamed encoding into the values it completes; throws on a line that
 * does not decode. Called with `last` on the text after the last LF once the stream ended: it
 * throws there when the stream was cut.
 */
export type LineDecoder = (line: string, last?: boolean) => unknown[];

/** What a LineDecoder throws. */
export const undecodable = (): never => {
  throw new TypeError('undecodable');
};

export function lineReader(): LineReader {
  let lineStart = 0; // where the line in progress begins
  let searched = 0; // how far the line in progress has been searched for its LF
  return {
    read: (text) => {
      const lines: string[] = [];
      for (let end; (end = text.indexOf('\n', searched)) >= 0; searched = lineStart = end + 1) lines.push(text.slice(lineStart, end));
      searched = text.length;
      return lines;
    },
    rest: (text) => text.slice(lineStart),
  };
}
