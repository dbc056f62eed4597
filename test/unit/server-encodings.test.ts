// Unit tests of server/encodings.ts: the exact bytes of PROTOCOL.md section 5.3.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  HEARTBEAT_FRAME,
  XHR_PRELUDE,
  closeFrame,
  createEncoder,
  escapeForScript,
  gapFrame,
  jsonpBody,
  openFrame,
} from '../../server/encodings.ts';

const open = openFrame(0, 15000);
const msg = { json: '{"type":"msg","seq":1,"channel":"room/42","data":"hi"}', eventId: 1 };
const unsafe = { json: '{"type":"msg","seq":2,"channel":"c","data":"</script><b>&\u2028\u2029"}', eventId: 2 };

test('frames serialise with the documented member order', () => {
  assert.equal(open.json, '{"type":"open","seq":0,"heartbeatMs":15000}');
  assert.equal(gapFrame(1201, 1500).json, '{"type":"gap","from":1201,"to":1500}');
  assert.equal(closeFrame('recycle').json, '{"type":"close","code":"recycle","reconnect":"now"}');
  assert.equal(closeFrame('replaced').json, '{"type":"close","code":"replaced","reconnect":"none"}');
  assert.equal(closeFrame('unknown-session').json, '{"type":"close","code":"unknown-session","reconnect":"handshake"}');
  assert.equal(closeFrame('overflow').json, '{"type":"close","code":"overflow","reconnect":"now"}');
  assert.equal(closeFrame('shutdown', 1000).json, '{"type":"close","code":"shutdown","reconnect":"backoff","retryMs":1000}');
});

test('sse: retry line, one event per frame, id on msg, comment before a heartbeat', () => {
  const sse = createEncoder('sse', { retryMs: 1000 });
  assert.equal(sse.headers['Content-Type'], 'text/event-stream; charset=utf-8');
  assert.equal(sse.head, 'retry: 1000\n\n');
  assert.equal(
    sse.batch([open, msg, HEARTBEAT_FRAME]),
    'data: {"type":"open","seq":0,"heartbeatMs":15000}\n\n' +
      'id: 1\ndata: {"type":"msg","seq":1,"channel":"room/42","data":"hi"}\n\n' +
      ': hb\ndata: {"type":"hb"}\n\n',
  );
  assert.equal(sse.tail, '');
});

test('xhr: a 2048-byte prelude of 2047 spaces and a LF, then one frame per line', () => {
  const xhr = createEncoder('xhr', { retryMs: 1000 });
  assert.equal(xhr.headers['Content-Type'], 'application/x-ndjson; charset=utf-8');
  assert.equal(XHR_PRELUDE.length, 2048);
  assert.equal(xhr.head, `${' '.repeat(2047)}\n`);
  assert.equal(xhr.batch([open, msg]), `${open.json}\n${msg.json}\n`);
});

test('multipart: a fresh quoted boundary per response, one JSON-array part per batch, a closing delimiter', () => {
  const first = createEncoder('multipart', { retryMs: 1000 });
  const second = createEncoder('multipart', { retryMs: 1000 });
  const match = /^multipart\/x-mixed-replace; boundary="(cometkit-[0-9a-f]{16})"$/.exec(first.headers['Content-Type'] ?? '');
  assert.ok(match, first.headers['Content-Type']);
  assert.notEqual(first.headers['Content-Type'], second.headers['Content-Type']);
  const boundary = match[1]!;
  assert.equal(first.head, '');
  assert.equal(first.batch([open, msg]), `--${boundary}\r\nContent-Type: application/json\r\n\r\n[${open.json},${msg.json}]\r\n`);
  assert.equal(first.tail, `--${boundary}--\r\n`);
});

test('iframe, same origin: head script calling parent.NAME, a 2048-space comment, one script per batch', () => {
  const iframe = createEncoder('iframe', { retryMs: 1000, callback: 'cometDeliver' });
  assert.equal(iframe.headers['Content-Type'], 'text/html; charset=utf-8');
  assert.equal(
    iframe.head,
    '<!DOCTYPE html><html><head><meta charset="utf-8"><script>\n' +
      'var d=function(f){parent.cometDeliver(f)};\n' +
      `</script></head><body><!--${' '.repeat(2048)}-->\n`,
  );
  assert.equal(iframe.batch([open]), `<script>d([${open.json}])</script>\n`);
  assert.equal(iframe.tail, '</body></html>');
});

test('iframe, cross origin: postMessage with the explicit origin, never "*"', () => {
  const iframe = createEncoder('iframe', { retryMs: 1000, callback: 'cb', origin: 'http://localhost:5173' });
  assert.ok(iframe.head.includes('var d=function(f){parent.postMessage({"cometkit":"cb","frames":f},"http://localhost:5173")};\n'));
  assert.ok(!iframe.head.includes("'*'") && !iframe.head.includes('"*"'));
});

test('script-carried frames escape <, >, &, U+2028 and U+2029, and stay the same JSON', () => {
  const escaped = escapeForScript(unsafe.json);
  assert.equal(escaped, '{"type":"msg","seq":2,"channel":"c","data":"\\u003c/script\\u003e\\u003cb\\u003e\\u0026\\u2028\\u2029"}');
  assert.deepEqual(JSON.parse(escaped), JSON.parse(unsafe.json));
  const iframe = createEncoder('iframe', { retryMs: 1000, callback: 'cb' });
  assert.ok(!iframe.batch([unsafe]).slice('<script>'.length).replace('</script>\n', '').includes('<'));
  const jsonp = createEncoder('jsonp', { retryMs: 1000, callback: 'cb' });
  assert.equal(jsonp.head + jsonp.batch([unsafe]) + jsonp.tail, `/**/cb([${escaped}]);`);
});

test('poll is a JSON array; jsonp is /**/NAME([...]); with a script type', () => {
  const poll = createEncoder('poll', { retryMs: 1000 });
  assert.equal(poll.streaming, false);
  assert.equal(poll.headers['Content-Type'], 'application/json; charset=utf-8');
  assert.equal(poll.head + poll.batch([]) + poll.tail, '[]');
  assert.equal(poll.head + poll.batch([msg, closeFrame('replaced')]) + poll.tail, `[${msg.json},{"type":"close","code":"replaced","reconnect":"none"}]`);
  const jsonp = createEncoder('jsonp', { retryMs: 1000, callback: 'jp_1' });
  assert.equal(jsonp.headers['Content-Type'], 'application/javascript; charset=utf-8');
  assert.equal(jsonp.head + jsonp.batch([]) + jsonp.tail, '/**/jp_1([]);');
  assert.equal(jsonpBody('cb', '{"a":"<"}'), '/**/cb({"a":"\\u003c"});');
});
