import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { lineReader } from '../../transports/framing/lines.ts';
import { byteChunked, chunked, randomCuts, seededRandom } from '../support/random.ts';

const prelude = ' '.repeat(2047) + '\n';
const frames = [
  { type: 'open', seq: 0, heartbeatMs: 15000 },
  { type: 'msg', seq: 1, channel: 'room/42', data: 'héllo wörld, 日本語, 😀, \u2028' },
  { type: 'hb' },
  { type: 'msg', seq: 2, channel: 'room/42', data: { text: 'line\nbreak escaped', n: [1, 2, 3] } },
];
const stream = prelude + frames.map((frame) => JSON.stringify(frame) + '\n').join('');

/** Every line a fresh reader yields from the body's `chunks`, in order. */
function readAll(chunks: readonly string[]): string[] {
  const { read } = lineReader();
  return chunks.flatMap((chunk) => read(chunk));
}

/** The frames on the lines, as xhr-streaming reads them: it skips blank lines (the prelude). */
const parsed = (lines: readonly string[]) => lines.filter((line) => /\S/.test(line)).map((line) => JSON.parse(line) as unknown);

describe('lineReader (newline-delimited frames over a body that arrives in chunks)', () => {
  it('yields the frames whole and in order wherever the stream is cut in two', () => {
    for (let cut = 0; cut <= stream.length; cut += 1) {
      assert.deepEqual(parsed(readAll(chunked(stream, [cut]))), frames, `cut at ${cut}`);
    }
  });

  it('yields the frames whole and in order when the stream arrives one character at a time', () => {
    const everyIndex = Array.from(stream, (_, index) => index);
    assert.deepEqual(parsed(readAll(chunked(stream, everyIndex))), frames);
  });

  it('yields the frames whole and in order under 500 seeded random splits', () => {
    const random = seededRandom(4);
    for (let round = 0; round < 500; round += 1) {
      const cuts = randomCuts(random, stream, 1 + Math.floor(random() * 12));
      assert.deepEqual(parsed(readAll(chunked(stream, cuts))), frames, `cuts ${cuts.join(',')}`);
    }
  });

  it('yields multibyte characters whole when the UTF-8 bytes are cut anywhere, as both body readers decode them', () => {
    const byteLength = new TextEncoder().encode(stream).length;
    for (let cut = 0; cut <= byteLength; cut += 1) {
      assert.deepEqual(parsed(readAll(byteChunked(stream, [cut]))), frames, `byte cut at ${cut}`);
    }
  });

  it('yields the 2048-byte prelude and lines that are empty or only white space as they are (their readers skip or need them)', () => {
    const { read } = lineReader();
    assert.deepEqual(read(prelude + '\n  \t \n\r\n{"type":"hb"}\n \n'), [prelude.slice(0, -1), '', '  \t ', '\r', '{"type":"hb"}', ' ']);
    assert.deepEqual(lineReader().read('a\r\n\r\n \nb\n'), ['a\r', '\r', ' ', 'b']);
  });

  it('reads CRLF line ends like LF ones (the CR is white space to JSON)', () => {
    const crlf = stream.replaceAll('\n', '\r\n');
    for (let cut = 0; cut <= crlf.length; cut += 1) {
      assert.deepEqual(parsed(readAll(chunked(crlf, [cut]))), frames, `cut at ${cut}`);
    }
  });

  it('does not end a line at a CR alone (ndjson lines end with LF)', () => {
    const { read, rest } = lineReader();
    assert.deepEqual(read('{"a":1}\r{"b":2}'), []);
    assert.equal(rest(), '{"a":1}\r{"b":2}');
  });

  it('keeps a partial last line until its LF arrives', () => {
    const { read } = lineReader();
    assert.deepEqual(read('{"type":"hb"}\n{"type":'), ['{"type":"hb"}']);
    assert.deepEqual(read('"open"'), []);
    assert.deepEqual(read('}\n'), ['{"type":"open"}']);
  });

  it('reports the line a stream was cut in, and nothing when it ended at a line end', () => {
    const { read, rest } = lineReader();
    read(stream + '{"type":"msg","seq":3,"chan');
    assert.equal(rest(), '{"type":"msg","seq":3,"chan');
    const whole = lineReader();
    whole.read(stream);
    assert.equal(whole.rest(), '');
  });

  // Memory: a fetch body is never kept whole, so the reader must not keep it either.
  it('keeps only the line in progress, not the lines it has yielded', () => {
    const { read, rest } = lineReader();
    read(`${'{"seq":1}\n'.repeat(1000)}{"seq":`);
    assert.equal(rest(), '{"seq":');
    read('2}\n');
    assert.equal(rest(), '');
  });
});
