// PROTOCOL.md §10: the endpoint's public origin behind a proxy (Host, publicOrigin, trusted
// forwarding headers), the loud failure of a proxy that rewrites Host, and the provenance rule
// that keeps credentials away from hooks when the answer could reach a page not proven allowed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import { endpointPath, errorBody, query, request, startServer, type RawResponse, type TestServer } from './support.ts';

const app = 'http://app.example';

interface Seen {
  cookie: string | undefined;
  authorization: string | undefined;
  rawHasCookie: boolean;
  info: { via: string; pageOrigin: string | undefined; proof: string | undefined; credentials: boolean };
}

/** A server whose authenticate hook names the user of the `user` cookie, or `anonymous`, and records what it saw. */
async function cookieServer(options: Record<string, unknown> = {}): Promise<{ server: TestServer; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = await startServer({
    ...options,
    authenticate(req: http.IncomingMessage, info: Seen['info']) {
      seen.push({
        cookie: req.headers.cookie,
        authorization: req.headers.authorization,
        rawHasCookie: req.rawHeaders.some((name) => name.toLowerCase() === 'cookie'),
        info,
      });
      return { user: /(?:^|; )user=(\w+)/.exec(req.headers.cookie ?? '')?.[1] ?? 'anonymous' };
    },
  });
  return { server, seen };
}

const credentialed = { cookie: 'user=alice', authorization: 'Basic YWxpY2U6cHc=' };

function jsonpValue(response: RawResponse): unknown {
  const match = /^\/\*\*\/cb\((.*)\);?$/s.exec(response.text);
  assert.ok(match, `not a JSONP answer (${response.status}): ${response.text.slice(0, 200)}`);
  return JSON.parse(match[1]!) as unknown;
}

void test('publicOrigin: same-origin is that exact origin whatever Host a proxy sends; others stay foreign', async (t) => {
  const server = await startServer({ publicOrigin: 'https://push.example' });
  t.after(() => server.stop());
  const own = await request(server, `${endpointPath}/handshake?v=1`, { method: 'POST', headers: { origin: 'https://push.example', host: '127.0.0.1:8080' } });
  assert.equal(own.status, 200);
  assert.equal(own.headers['access-control-allow-origin'], undefined, 'same-origin needs no CORS headers');
  for (const origin of ['http://push.example', 'https://push.example:8443', 'https://evil.example', `http://127.0.0.1:${server.port}`]) {
    const foreign = await request(server, `${endpointPath}/handshake?v=1`, { method: 'POST', headers: { origin } });
    assert.equal(foreign.status, 403, origin);
    assert.equal(errorBody(foreign).code, 'forbidden-origin');
  }
  // The default port is the same origin, as a browser serialises it.
  const explicit = await startServer({ publicOrigin: ['https://push.example:443/', 'http://localhost:8080'] });
  t.after(() => explicit.stop());
  for (const origin of ['https://push.example', 'http://localhost:8080']) {
    assert.equal((await request(explicit, `${endpointPath}/handshake?v=1`, { method: 'POST', headers: { origin } })).status, 200, origin);
  }
  await assert.rejects(startServer({ publicOrigin: 'https://push.example/comet' }), /publicOrigin/);
});

void test('trustForwarded: Forwarded (last element) or X-Forwarded-Host/Proto give the public origin; ignored unless trusted', async (t) => {
  const trusting = await startServer({ trustForwarded: true });
  const plain = await startServer();
  t.after(() => trusting.stop());
  t.after(() => plain.stop());
  const cases: [Record<string, string>, string, boolean][] = [
    [{ 'x-forwarded-host': 'push.example', 'x-forwarded-proto': 'https' }, 'https://push.example', true],
    [{ 'x-forwarded-host': 'push.example', 'x-forwarded-proto': 'https' }, 'http://push.example', false],
    [{ 'x-forwarded-host': 'spoofed.example, push.example:8443' }, 'http://push.example:8443', true],
    [{ forwarded: 'for=10.0.0.1;host=spoofed.example, for=10.0.0.2;host="push.example";proto=https' }, 'https://push.example', true],
    [{ forwarded: 'for=10.0.0.2;host=push.example;proto=https' }, 'https://spoofed.example', false],
  ];
  for (const [headers, origin, allowed] of cases) {
    const response = await request(trusting, `${endpointPath}/handshake?v=1`, { method: 'POST', headers: { ...headers, origin } });
    assert.equal(response.status, allowed ? 200 : 403, `${JSON.stringify(headers)} with ${origin}`);
    if (allowed) {
      const untrusted = await request(plain, `${endpointPath}/handshake?v=1`, { method: 'POST', headers: { ...headers, origin } });
      assert.equal(untrusted.status, 403, `without trustForwarded: ${JSON.stringify(headers)}`);
    }
  }
});

void test('a proxy that rewrites Host gets a 403 forbidden-origin naming what to check, reported once to onError with the fix', async (t) => {
  const reports: { error: unknown; where: string }[] = [];
  const server = await startServer({ onError: (error: unknown, where: string) => reports.push({ error, where }) });
  t.after(() => server.stop());
  // What nginx sends with its default `proxy_set_header Host $proxy_host` for a page at localhost:8443.
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const refused = await request(server, `${endpointPath}/send${query({ session: 'A'.repeat(22) })}`, {
      method: 'POST',
      headers: { origin: 'http://localhost:8443', host: `127.0.0.1:${server.port}`, 'content-type': 'text/plain' },
      body: '{"messages":[]}',
    });
    assert.equal(refused.status, 403);
    const body = errorBody(refused);
    assert.equal(body.code, 'forbidden-origin');
    assert.match(String(body.message), /proxy_set_header Host \$http_host/);
    assert.match(String(body.message), /publicOrigin/);
    assert.match(String(body.message), /allowedOrigins/);
    assert.ok(!String(body.message).includes('localhost:8443'), 'the body repeats no input');
  }
  assert.equal(reports.length, 1, 'reported once');
  assert.equal(reports[0]!.where, 'origin');
  const message = (reports[0]!.error as Error).message;
  for (const part of ['"http://localhost:8443"', `"127.0.0.1:${server.port}"`, 'proxy_set_header Host $http_host', 'publicOrigin', 'allowedOrigins']) {
    assert.ok(message.includes(part), `the report names ${part}: ${message}`);
  }

  // A foreign page at a public host name is refused as it should be, and is not a configuration problem.
  const quiet: unknown[] = [];
  const publicServer = await startServer({ onError: (error: unknown) => quiet.push(error) });
  t.after(() => publicServer.stop());
  const foreign = await request(publicServer, `${endpointPath}/handshake?v=1`, { method: 'POST', headers: { origin: 'https://evil.example', host: 'push.example.com' } });
  assert.equal(foreign.status, 403);
  assert.deepEqual(quiet, []);
});

void test('a script handshake reaches authenticate with credentials only from a page proven allowed', async (t) => {
  const { server, seen } = await cookieServer({ allowedOrigins: [app] });
  t.after(() => server.stop());
  const own = `http://127.0.0.1:${server.port}`;
  const cases: { label: string; headers: Record<string, string>; proof: string | undefined; pageOrigin: string | undefined }[] = [
    { label: 'Sec-Fetch-Site same-origin, no Referer', headers: { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'script' }, proof: 'same-origin', pageOrigin: undefined },
    { label: 'a listed page, cross-site', headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-dest': 'script', referer: `${app}/page?x=1` }, proof: 'allowed-origin', pageOrigin: app },
    { label: 'an old engine on the own origin (Referer, no Sec-Fetch-*)', headers: { referer: `${own}/app/index.html` }, proof: 'same-origin', pageOrigin: own },
    { label: 'an old engine on a listed origin', headers: { referer: `${app}/` }, proof: 'allowed-origin', pageOrigin: app },
    { label: 'another port of the same site (localhost:B)', headers: { 'sec-fetch-site': 'same-site', 'sec-fetch-dest': 'script', referer: 'http://localhost:9999/' }, proof: undefined, pageOrigin: 'http://localhost:9999' },
    { label: 'another site', headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-dest': 'script', referer: 'https://evil.example/x' }, proof: undefined, pageOrigin: 'https://evil.example' },
    { label: 'a page that hides its Referer', headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-dest': 'script' }, proof: undefined, pageOrigin: undefined },
    { label: 'an old engine, foreign Referer', headers: { referer: 'http://localhost:9999/' }, proof: undefined, pageOrigin: 'http://localhost:9999' },
    { label: 'no provenance at all', headers: {}, proof: undefined, pageOrigin: undefined },
    { label: 'a Referer that is not http(s)', headers: { referer: 'data:text/html,x' }, proof: undefined, pageOrigin: undefined },
    { label: 'a user-typed URL', headers: { 'sec-fetch-site': 'none', 'sec-fetch-mode': 'navigate' }, proof: undefined, pageOrigin: undefined },
  ];
  for (const { label, headers, proof, pageOrigin } of cases) {
    const response = await request(server, `${endpointPath}/handshake${query({ v: 1, callback: 'cb' })}`, { headers: { ...credentialed, ...headers } });
    assert.equal(response.status, 200, label);
    const hello = jsonpValue(response) as { session: string };
    const principal = server.comet.inspect().perSession.find((session) => session.id === hello.session);
    assert.ok(principal, label);
    const last = seen.at(-1)!;
    const credentials = proof !== undefined;
    assert.deepEqual(last.info, { via: 'script', pageOrigin, proof, credentials }, label);
    assert.equal(last.cookie, credentials ? 'user=alice' : undefined, `${label}: Cookie`);
    assert.equal(last.authorization, credentials ? credentialed.authorization : undefined, `${label}: Authorization`);
    assert.equal(last.rawHasCookie, credentials, `${label}: rawHeaders`);
  }
});

void test('fetch handshakes keep their credentials unless CORS under "*" lets any page read the answer', async (t) => {
  const { server, seen } = await cookieServer({ allowedOrigins: [app] });
  const open = await cookieServer({ allowedOrigins: '*' });
  t.after(() => server.stop());
  t.after(() => open.server.stop());
  const post = (target: TestServer, headers: Record<string, string>) => request(target, `${endpointPath}/handshake?v=1`, { method: 'POST', headers: { ...credentialed, ...headers } });

  assert.equal((await post(server, {})).status, 200);
  assert.deepEqual(seen.at(-1)!.info, { via: 'fetch', pageOrigin: undefined, proof: undefined, credentials: true }, 'no Origin: a non-browser client or a same-origin GET');
  assert.equal(seen.at(-1)!.cookie, 'user=alice');
  assert.equal((await post(server, { origin: server.origin })).status, 200);
  assert.deepEqual(seen.at(-1)!.info, { via: 'fetch', pageOrigin: server.origin, proof: 'same-origin', credentials: true });
  assert.equal((await post(server, { origin: app })).status, 200);
  assert.deepEqual(seen.at(-1)!.info, { via: 'fetch', pageOrigin: app, proof: 'allowed-origin', credentials: true });
  assert.equal(seen.at(-1)!.cookie, 'user=alice');

  assert.equal((await post(open.server, { origin: 'https://any.example' })).status, 200);
  assert.deepEqual(open.seen.at(-1)!.info, { via: 'fetch', pageOrigin: 'https://any.example', proof: undefined, credentials: false });
  assert.equal(open.seen.at(-1)!.cookie, undefined);
  // Under '*' a script handshake from another page is not proven either.
  const script = await request(open.server, `${endpointPath}/handshake${query({ v: 1, callback: 'cb' })}`, { headers: { ...credentialed, referer: 'https://any.example/' } });
  assert.equal(script.status, 200);
  assert.deepEqual(open.seen.at(-1)!.info, { via: 'script', pageOrigin: 'https://any.example', proof: undefined, credentials: false });
});

void test('sends by GET (the script form) from a page not proven allowed reach the hooks without credentials', async (t) => {
  const cookies: (string | undefined)[] = [];
  const server = await startServer({
    allowedOrigins: [app],
    authorizeSubscribe: ({ req }: { req: http.IncomingMessage }) => {
      cookies.push(req.headers.cookie);
      return (req.headers.cookie ?? '').includes('user=alice');
    },
  });
  t.after(() => server.stop());
  const hello = await request(server, `${endpointPath}/handshake?v=1`, { method: 'POST' });
  const { session } = hello.json as { session: string };
  let id = 1;
  const getSend = (headers: Record<string, string>) => request(server, `${endpointPath}/send${query({
    session, callback: 'cb', messages: JSON.stringify([{ id: id++, type: 'subscribe', channel: `c${id}` }]),
  })}`, { headers: { cookie: 'user=alice', ...headers } });

  const foreign = jsonpValue(await getSend({ 'sec-fetch-site': 'same-site', referer: 'http://localhost:9999/' })) as { errors: unknown[] };
  assert.deepEqual(foreign.errors, [{ id: 1, code: 'forbidden' }], 'a foreign page cannot subscribe with the user\'s cookie');
  const listed = jsonpValue(await getSend({ 'sec-fetch-site': 'cross-site', referer: `${app}/` })) as { errors: unknown[] };
  assert.deepEqual(listed.errors, []);
  const own = jsonpValue(await getSend({ 'sec-fetch-site': 'same-origin' })) as { errors: unknown[] };
  assert.deepEqual(own.errors, []);
  assert.deepEqual(cookies, [undefined, 'user=alice', 'user=alice']);
  // POST, the fetch form, keeps them: a browser sends Origin with it, judged before (see cors.test.ts).
  const post = await request(server, `${endpointPath}/send${query({ session })}`, {
    method: 'POST',
    headers: { cookie: 'user=alice', 'content-type': 'text/plain' },
    body: JSON.stringify({ messages: [{ id: id++, type: 'subscribe', channel: 'posted' }] }),
  });
  assert.deepEqual((post.json as { errors: unknown[] }).errors, []);
});
