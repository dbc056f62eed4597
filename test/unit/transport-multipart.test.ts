// Every behaviour twice: read by XHR at readyState 3 and by fetch with a ReadableStream reader
// (test/support/body-readers.ts: the XHR reader is the legacy bundle's, composed in explicitly).
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { http, HttpResponse, type RequestHandler } from 'msw';
import type { Platform } from '../../src/platform.ts';
import type { TransportRequest } from '../../transports/contract.ts';
import { bodyReaderCases } from '../support/body-readers.ts';
import { recorder, settle, until } from '../support/recorder.ts';
import { pushedBody } from '../support/streams.ts';

const boundary = 'cometkit-4f1c9a0b33d2e8a1';
const mixed = { 'Content-Type': `multipart/x-mixed-replace; boundary="${boundary}"`, 'X-Content-Type-Options': 'nosniff' };
const request: TransportRequest = { url: 'http://app.test/comet/multipart?session=S1&since=0', withCredentials: false, headers: {} };
const part = (batch: unknown) => `--${boundary}\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(batch)}\r\n`;
const closing = `--${boundary}--\r\n`;

for (const reader of bodyReaderCases()) {
  describe(`multipart transport, read by ${reader.name}`, () => {
    afterEach(reader.close);
    const platformFor = (handlers: RequestHandler[]): Platform => reader.platformFor(handlers);
    const answering = (body: BodyInit, headers: Record<string, string> = mixed, status = 200): Platform =>
      platformFor([http.get('http://app.test/comet/multipart', () => new HttpResponse(body, { status, headers }))]);

    it('delivers each part as soon as its body line arrives, without waiting for the next delimiter', async () => {
      const body = pushedBody();
      const platform = answering(body.stream);
      const record = recorder();
      reader.multipart.open(platform, request, record.listener);

      body.push(part([{ type: 'open', seq: 0 }]));
      await until(() => record.batches.length === 1);
      assert.deepEqual(record.values(), [{ type: 'open', seq: 0 }]);

      const second = part([{ type: 'msg', seq: 1, data: 'é😀' }, { type: 'hb' }]);
      body.push(second.slice(0, 20));
      await settle();
      assert.equal(record.batches.length, 1);
      body.push(second.slice(20));
      await until(() => record.batches.length === 2);
      assert.deepEqual(record.batches[1], [{ type: 'msg', seq: 1, data: 'é😀' }, { type: 'hb' }]);

      body.push(part([{ type: 'close', code: 'recycle' }]) + closing);
      body.end();
      assert.equal(await record.ended, undefined);
      assert.deepEqual(record.values().at(-1), { type: 'close', code: 'recycle' });
      assert.equal(record.endCount, 1);
    });

    it('delivers a part whose UTF-8 bytes arrive in two chunks split inside a character', async () => {
      const bytes = new TextEncoder().encode(part([{ data: '日😀' }]));
      const start = bytes.indexOf(0xe6); // the first byte of 日
      for (let cut = start + 1; cut < start + 3 + 4; cut += 1) {
        const body = pushedBody();
        const platform = answering(body.stream);
        const record = recorder();
        reader.multipart.open(platform, request, record.listener);
        body.pushBytes(bytes.subarray(0, cut));
        await settle(20);
        body.pushBytes(bytes.subarray(cut));
        body.push(closing);
        body.end();
        assert.equal(await record.ended, undefined, `cut at byte ${cut}`);
        assert.deepEqual(record.values(), [{ data: '日😀' }], `cut at byte ${cut}`);
        reader.close();
      }
    });

    it('delivers the whole parts, then fails as network when the connection is cut inside one', async () => {
      const body = pushedBody();
      const platform = answering(body.stream);
      const record = recorder();
      reader.multipart.open(platform, request, record.listener);
      body.push(part([1]) + part([2]).slice(0, 40));
      await until(() => record.batches.length === 1);
      body.cut();
      assert.equal((await record.ended)?.type, 'network');
      assert.deepEqual(record.values(), [1]);
    });

    it('reads an unquoted boundary', async () => {
      const platform = answering(part([1]) + closing, { 'Content-Type': `multipart/x-mixed-replace;boundary=${boundary}` });
      const record = recorder();
      reader.multipart.open(platform, request, record.listener);
      assert.equal(await record.ended, undefined);
      assert.deepEqual(record.values(), [1]);
    });

    it('fails with content-type for any other type, or a multipart type without a boundary', async () => {
      for (const type of ['text/html', 'application/x-ndjson', 'multipart/x-mixed-replace']) {
        const platform = answering(part([1]) + closing, { 'Content-Type': type });
        const record = recorder();
        reader.multipart.open(platform, request, record.listener);
        assert.equal((await record.ended)?.type, 'content-type', type);
        assert.deepEqual(record.batches, [], type);
        reader.close();
      }
    });

    it('fails with http-status and the status when the server refuses the stream', async () => {
      const platform = answering('{"type":"error","code":"bad-since"}', { 'Content-Type': 'application/json' }, 400);
      const record = recorder();
      reader.multipart.open(platform, request, record.listener);
      const failure = await record.ended;
      assert.equal(failure?.type, 'http-status');
      assert.equal(failure.status, 400);
    });

    it('delivers the parts before one whose body is not a JSON array, then fails as malformed', async () => {
      const platform = answering(part([1]) + part({ not: 'an array' }) + part([3]) + closing);
      const record = recorder();
      reader.multipart.open(platform, request, record.listener);
      assert.equal((await record.ended)?.type, 'malformed');
      assert.deepEqual(record.values(), [1]);
    });

    it('fails as malformed when the response ends inside a part', async () => {
      const platform = answering(part([1]) + `--${boundary}\r\nContent-Type: application/json\r\n\r\n[{"ty`);
      const record = recorder();
      reader.multipart.open(platform, request, record.listener);
      assert.equal((await record.ended)?.type, 'malformed');
      assert.deepEqual(record.values(), [1]);
    });

    // WebKit fails a fetch body read, and ends an XHR with status 0, instead of exposing this
    // type's body (docs/ENGINES.md).
    it('fails as network when the engine cannot read the body, so the negotiator moves on', async () => {
      const platform = platformFor([http.get('http://app.test/comet/multipart', () => HttpResponse.error())]);
      const record = recorder();
      reader.multipart.open(platform, request, record.listener);
      assert.equal((await record.ended)?.type, 'network');
      assert.deepEqual(record.batches, []);
    });

    it('drops the connection when closed and reports nothing more', async () => {
      const body = pushedBody();
      const platform = answering(body.stream);
      const record = recorder();
      const exchange = reader.multipart.open(platform, request, record.listener);
      body.push(part([1]));
      await until(() => record.batches.length === 1);
      exchange.close();
      await until(() => body.cancelled);
      await settle();
      assert.deepEqual(record.values(), [1]);
      assert.equal(record.endCount, 0);
    });
  });
}
