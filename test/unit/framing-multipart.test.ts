import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { lineReader } from '../../transports/framing/lines.ts';
import { multipartReader } from '../../transports/framing/multipart.ts';
import { byteChunked, chunked, randomCuts, seededRandom } from '../support/random.ts';

const boundary = 'cometkit-4f1c9a0b33d2e8a1';
const batches = [
  [{ type: 'open', seq: 0, heartbeatMs: 15000 }],
  [{ type: 'msg', seq: 1, channel: 'room/42', data: 'héllo, 日本語, 😀' }, { type: 'hb' }],
  [{ type: 'msg', seq: 2, channel: 'room/42', data: '--cometkit-4f1c9a0b33d2e8a1 inside a string' }],
];
const part = (batch: unknown, eol = '\r\n') =>
  `--${boundary}${eol}Content-Type: application/json${eol}${eol}${JSON.stringify(batch)}${eol}`;
/** A response as PROTOCOL.md §5.3 writes it. */
const response = (eol = '\r\n') => batches.map((batch) => part(batch, eol)).join('') + `--${boundary}--${eol}`;

/**
 * The reader over a line reader, as the multipart transport runs it: `read` gives the batches
 * completed by a chunk of the body, `complete` whether a stream that stopped there stopped cleanly.
 */
function multipartText() {
  const { read: lines, rest } = lineReader();
  const decode = multipartReader(boundary);
  return {
    read: (chunk: string) => lines(chunk).flatMap((line) => {
      const batch = decode(line);
      return batch.length ? [batch] : [];
    }),
    complete: () => {
      try {
        decode(rest(), true);
        return true;
      } catch {
        return false;
      }
    },
  };
}

function readAll(chunks: readonly string[]): unknown[] {
  const reader = multipartText();
  return chunks.flatMap((chunk) => reader.read(chunk));
}

describe('multipartReader (multipart/x-mixed-replace over a body that arrives in chunks)', () => {
  it('yields each part body whole and in order wherever the response is cut in two', () => {
    const text = response();
    for (let cut = 0; cut <= text.length; cut += 1) {
      assert.deepEqual(readAll(chunked(text, [cut])), batches, `cut at ${cut}`);
    }
  });

  it('yields each part body whole when the response arrives one character at a time', () => {
    const text = response();
    assert.deepEqual(readAll(chunked(text, Array.from(text, (_, index) => index))), batches);
  });

  it('yields each part body whole under 500 seeded random splits', () => {
    const random = seededRandom(7);
    const text = response();
    for (let round = 0; round < 500; round += 1) {
      const cuts = randomCuts(random, text, 1 + Math.floor(random() * 12));
      assert.deepEqual(readAll(chunked(text, cuts)), batches, `cuts ${cuts.join(',')}`);
    }
  });

  it('yields multibyte characters whole when the UTF-8 bytes are cut anywhere, as both body readers decode them', () => {
    const text = response();
    const byteLength = new TextEncoder().encode(text).length;
    for (let cut = 0; cut <= byteLength; cut += 1) {
      assert.deepEqual(readAll(byteChunked(text, [cut])), batches, `byte cut at ${cut}`);
    }
  });

  it('reads bare-LF line ends like CRLF ones', () => {
    const text = response('\n');
    for (let cut = 0; cut <= text.length; cut += 1) {
      assert.deepEqual(readAll(chunked(text, [cut])), batches, `cut at ${cut}`);
    }
  });

  it('yields a part as soon as its body line ends, before the next delimiter is written', () => {
    const reader = multipartText();
    const first = part(batches[0]);
    assert.deepEqual(reader.read(first.slice(0, -2)), []);
    assert.deepEqual(reader.read(first.slice(-2)), [batches[0]]);
  });

  it('ignores a preamble, extra part headers, transport padding and an epilogue', () => {
    const text =
      'This is a preamble that readers ignore.\r\n' +
      `--${boundary}  \t\r\nContent-Type: application/json\r\nX-Extra: [1]\r\n\r\n[1]\r\n` +
      `--${boundary}\r\n\r\n[2]\r\n\r\n` +
      `--${boundary}--\r\n--${boundary}\r\n\r\n["epilogue"]\r\n`;
    assert.deepEqual(readAll([text]), [[1], [2]]);
  });

  it('does not take a longer boundary that starts with ours for a delimiter', () => {
    const text = `--${boundary}\r\n\r\n[1]\r\n--${boundary}0\r\n\r\n[2]\r\n--${boundary}\r\n\r\n[3]\r\n`;
    assert.deepEqual(readAll([text]), [[1], [3]]);
  });

  it('says the response ended cleanly after the closing delimiter, with or without its CRLF', () => {
    for (const text of [response(), response().slice(0, -2)]) {
      const reader = multipartText();
      reader.read(text);
      assert.equal(reader.complete(), true);
    }
  });

  it('says the response ended cleanly when it stopped between two parts', () => {
    const text = part(batches[0]);
    const reader = multipartText();
    reader.read(text);
    assert.equal(reader.complete(), true);
  });

  it('says the response was cut when it stopped inside a part or a delimiter line', () => {
    const text = response();
    const cuts = [
      part(batches[0]).length + 5, // in the delimiter line
      part(batches[0]).length + `--${boundary}\r\nContent-Ty`.length, // in the headers
      part(batches[0]).length + `--${boundary}\r\nContent-Type: application/json\r\n\r\n`.length, // before the body
      part(batches[0]).length + `--${boundary}\r\nContent-Type: application/json\r\n\r\n[{"ty`.length, // in the body
    ];
    for (const cut of cuts) {
      const reader = multipartText();
      const cutText = text.slice(0, cut);
      reader.read(cutText);
      assert.equal(reader.complete(), false, `cut at ${cut}: ${JSON.stringify(cutText.slice(-12))}`);
    }
  });
});
