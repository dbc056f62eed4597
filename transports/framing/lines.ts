// Newline-delimited framing over a body that arrives in chunks (a fetch body's, or what an XHR's
// `responseText` gained since the last read). Each chunk is examined once, and only the line in
// progress is kept: however long the stream gets, reading it stays linear.
// LF ends a line; a CR before it is white space to JSON. PROTOCOL.md §3.3 guarantees that no raw
// CR or LF appears inside a serialised frame, which is what makes a line a frame.

/** Its functions use no `this`: they may be called on their own. */
export interface LineReader {
  /** The lines that `chunk`, the text that arrived after the last one, completes, without their LF, blank ones included. */
  read: (chunk: string) => string[];
  /** What follows the last LF: the line the stream was cut in (call it once the body has ended). */
  rest: () => string;
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
  /** The line in progress: the text after the last LF. */
  let partial = '';
  return {
    read: (chunk) => {
      const end = chunk.lastIndexOf('\n');
      if (end < 0) {
        partial += chunk;
        return [];
      }
      // The line in progress is searched once more, when the chunk that ends it arrives.
      const lines = (partial + chunk.slice(0, end)).split('\n');
      partial = chunk.slice(end + 1);
      return lines;
    },
    rest: () => partial,
  };
}
