import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { lineReader } from '../../transports/framing/lines.ts';
import { growing, growingBytes, randomCuts, seededRandom } from '../support/random.ts';

const prelude = ' '.repeat(2047) + '\n';
const frames = [
  { type: 'open', seq: 0, heartbeatMs: 15000 },
  { type: 'msg', seq: 1, channel: 'room/42', data: 'héllo wörld, 日本語, 😀, \u2028' },
  { type: 'hb' },
  { type: 'msg', seq: 2, channel: 'room/42', data: { text: 'line\nbreak escaped', n: [1, 2, 3] } },
];
const stream = prelude + frames.map((frame) => JSON.stringify(frame) + '\n').join('');

/** Every line a fresh reader yields while the text grows through `texts`. */
function readAll(texts: readonly string[]): string[] {
  const { read } = lineReader();
  return texts.flatMap((text) => read(text));
}

/** The frames on the lines, as xhr-streaming reads them: it skips blank lines (the prelude). */
const parsed = (lines: readonly string[]) => lines.filter((line) => /\S/.test(line)).map((line) => JSON.parse(line) as unknown);

describe('lineReader (newline-delimited frames over a growing responseText)', () => {
  it('yields the frames whole and in order wherever the stream is cut in two', () => {
    for (let cut = 0; cut <= stream.length; cut += 1) {
      assert.deepEqual(parsed(readAll(growing(stream, [cut]))), frames, `cut at ${cut}`);
    }
  });

  it('yields the frames whole and in order when the stream arrives one character at a time', () => {
    const everyIndex = Array.from(stream, (_, index) => index);
    assert.deepEqual(parsed(readAll(growing(stream, everyIndex))), frames);
  });

  it('yields the frames whole and in order under 500 seeded random splits', () => {
    const random = seededRandom(4);
    for (let round = 0; round < 500; round += 1) {
      const cuts = randomCuts(random, stream, 1 + Math.floor(random() * 12));
      assert.deepEqual(parsed(readAll(growing(stream, cuts))), frames, `cuts ${cuts.join(',')}`);
    }
  });

  it('yields multibyte characters whole when the UTF-8 bytes are cut anywhere, as an XHR decodes them', () => {
    const byteLength = new TextEncoder().encode(stream).length;
    for (let cut = 0; cut <= byteLength; cut += 1) {
      assert.deepEqual(parsed(readAll(growingBytes(stream, [cut]))), frames, `byte cut at ${cut}`);
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
      assert.deepEqual(parsed(readAll(growing(crlf, [cut]))), frames, `cut at ${cut}`);
    }
  });

  it('does not end a line at a CR alone (ndjson lines end with LF)', () => {
    const { read, rest } = lineReader();
    assert.deepEqual(read('{"a":1}\r{"b":2}'), []);
    assert.equal(rest('{"a":1}\r{"b":2}'), '{"a":1}\r{"b":2}');
  });

  it('keeps a partial last line until its LF arrives', () => {
    const { read } = lineReader();
    assert.deepEqual(read('{"type":"hb"}\n{"type":'), ['{"type":"hb"}']);
    assert.deepEqual(read('{"type":"hb"}\n{"type":"open"'), []);
    assert.deepEqual(read('{"type":"hb"}\n{"type":"open"}\n'), ['{"type":"open"}']);
  });

  it('reports the line a stream was cut in, and nothing when it ended at a line end', () => {
    const cut = stream + '{"type":"msg","seq":3,"chan';
    const { read, rest } = lineReader();
    read(cut);
    assert.equal(rest(cut), '{"type":"msg","seq":3,"chan');
    const { read: readWhole, rest: restWhole } = lineReader();
    readWhole(stream);
    assert.equal(restWhole(stream), '');
  });

  // Linear time, checked structurally: a reader that looked again at text it already consumed
  // would find the different text planted there.
  it('never reads again the lines it has already yielded', () => {
    const { read } = lineReader();
    const first = '{"seq":1}\n{"seq":2}\n';
    assert.deepEqual(read(first), ['{"seq":1}', '{"seq":2}']);
    const planted = 'X\n'.repeat(first.length / 2);
    assert.deepEqual(read(planted + '{"seq":3}\n'), ['{"seq":3}']);
  });

  it('never searches again the part of an unfinished line it has already searched', () => {
    const { read } = lineReader();
    assert.deepEqual(read('{"data":"'), []);
    // Line breaks planted where the unfinished line was: a reader searching from the line's
    // start would cut it at them; one searching from where it stopped sees one line.
    const text = '\n\n\n\n\n\n\n\n\n' + 'x"}\n';
    assert.deepEqual(read(text), [text.slice(0, -1)]);
  });
});
