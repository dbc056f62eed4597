// Unit tests of server/validate.ts: the parameter and upstream JSON rules of PROTOCOL.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkMessages,
  decodeUtf8,
  isCallbackName,
  isChannel,
  isOriginForm,
  isSessionId,
  messagesOfBody,
  parseClientJson,
  parseSince,
} from '../../server/validate.ts';
import { parseQuery } from '../../server/http.ts';

const limits = { maxBatchMessages: 3, maxMessageBytes: 10 };

test('session ids are 22 to 64 characters of URL-safe base64', () => {
  assert.ok(isSessionId('a'.repeat(22)));
  assert.ok(isSessionId('A-_9'.repeat(16)));
  for (const id of ['a'.repeat(21), 'a'.repeat(65), `${'a'.repeat(22)}=`, `${'a'.repeat(22)}/`, `${'a'.repeat(22)}\n`, `${'a'.repeat(21)}é`]) {
    assert.equal(isSessionId(id), false, JSON.stringify(id));
  }
});

test('callback names follow ^[A-Za-z_$][\\w$]{0,63}$ and nothing after a newline slips through', () => {
  for (const name of ['cb', '_', '$', 'jQuery123_456', `a${'b'.repeat(63)}`]) assert.ok(isCallbackName(name), name);
  for (const name of ['', '1cb', 'a.b', 'a(b)', 'alert;x', `a${'b'.repeat(64)}`, 'cb\n', 'cb\u2028', 'é']) {
    assert.equal(isCallbackName(name), false, JSON.stringify(name));
  }
});

test('channels are 1 to 128 characters of [A-Za-z0-9_.:/@~-]', () => {
  for (const channel of ['room/42', 'a', 'user@host:1~x.y-z_', 'c'.repeat(128)]) assert.ok(isChannel(channel), channel);
  for (const channel of ['', 'c'.repeat(129), 'room 42', 'room?x', 'é', 'a\n']) assert.equal(isChannel(channel), false, JSON.stringify(channel));
});

test('iframe origins must be http(s)://host[:port] with nothing else', () => {
  assert.ok(isOriginForm('http://localhost:5173'));
  assert.ok(isOriginForm('https://app.example.com'));
  for (const origin of ['null', '*', 'http://a/', 'javascript:alert(1)', 'http://a:123456', 'https://a.com"', 'ftp://a']) {
    assert.equal(isOriginForm(origin), false, origin);
  }
});

test('since is a decimal integer; signs, fractions, spaces and huge values are malformed', () => {
  assert.equal(parseSince('0'), 0);
  assert.equal(parseSince('42'), 42);
  for (const text of ['', '-1', '+1', '1.5', '1e3', ' 1', '0x10', '12345678901234567']) assert.equal(parseSince(text), undefined, text);
});

test('forbidden keys are refused at any depth, in objects and inside arrays', () => {
  for (const json of ['{"__proto__":{}}', '{"a":{"b":[{"constructor":1}]}}', '[{"prototype":null}]', '{"\\u005f_proto__":1}']) {
    assert.deepEqual(parseClientJson(json), { ok: false, code: 'forbidden-key' }, json);
  }
  assert.deepEqual(parseClientJson('{"proto":1,"Constructor":2}'), { ok: true, value: { proto: 1, Constructor: 2 } });
  assert.deepEqual(parseClientJson('{"a":"__proto__"}'), { ok: true, value: { a: '__proto__' } }, 'as a value it is harmless');
  assert.deepEqual(parseClientJson('{"a":'), { ok: false, code: 'bad-json' });
});

test('bodies must be strict UTF-8, and a byte-order mark makes the JSON invalid', () => {
  assert.equal(decodeUtf8(Buffer.from([0xff, 0xfe])), undefined);
  const withBom = decodeUtf8(Buffer.from('\ufeff{}'));
  assert.equal(withBom, '\ufeff{}');
  assert.deepEqual(parseClientJson('\ufeff{}'), { ok: false, code: 'bad-json' });
});

test('messages of the section 6.1 form are accepted, with unknown members ignored', () => {
  const result = checkMessages([
    { id: 1, type: 'subscribe', channel: 'a', extra: true },
    { id: 2, type: 'publish', channel: 'a', data: null },
    { id: 3, type: 'unsubscribe', channel: 'not a channel' },
  ], limits);
  assert.deepEqual(result, {
    ok: true,
    messages: [
      { id: 1, type: 'subscribe', channel: 'a' },
      { id: 2, type: 'publish', channel: 'a', data: null, dataJson: 'null' },
      { id: 3, type: 'unsubscribe', channel: 'not a channel' },
    ],
  });
});

test('one message not of the form refuses the whole batch with bad-json', () => {
  const bad = [
    { id: 0, type: 'subscribe', channel: 'a' },
    { id: 1.5, type: 'subscribe', channel: 'a' },
    { id: '1', type: 'subscribe', channel: 'a' },
    { id: 1, type: 'shout', channel: 'a' },
    { id: 1, type: 'publish', channel: 'a' },
    { id: 1, type: 'subscribe', channel: 7 },
    [1],
    null,
  ];
  for (const message of bad) {
    assert.deepEqual(checkMessages([{ id: 1, type: 'subscribe', channel: 'a' }, message], limits), { ok: false, code: 'bad-json' }, JSON.stringify(message));
  }
  assert.deepEqual(checkMessages({ messages: [] }, limits), { ok: false, code: 'bad-json' });
  assert.deepEqual(checkMessages(messagesOfBody([]), limits), { ok: false, code: 'bad-json' });
});

test('batch and message sizes are checked after the form, in bytes of serialised data', () => {
  const subscribe = (id: number) => ({ id, type: 'subscribe', channel: 'a' });
  assert.deepEqual(checkMessages([1, 2, 3, 4].map(subscribe), limits), { ok: false, code: 'batch-too-large' });
  assert.equal(checkMessages([{ id: 1, type: 'publish', channel: 'a', data: '12345678' }], limits).ok, true, '10 bytes with quotes');
  assert.deepEqual(checkMessages([{ id: 1, type: 'publish', channel: 'a', data: 'ééééé' }], limits), { ok: false, code: 'message-too-large' });
});

test('query parameters are decoded once each; repeats and broken escapes are malformed', () => {
  assert.deepEqual([...parseQuery('session=abc&since=0&t=1&x=%2B+%20')!], [['session', 'abc'], ['since', '0'], ['t', '1'], ['x', '+  ']]);
  assert.equal(parseQuery('since=0&since=1'), undefined);
  assert.equal(parseQuery('callback=%ZZ'), undefined);
  assert.equal(parseQuery('callback=%C3'), undefined, 'a lone UTF-8 lead byte');
  assert.deepEqual([...parseQuery('')!], []);
});
