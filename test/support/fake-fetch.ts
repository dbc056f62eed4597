// A stand-in fetch for client tests that go through the real one-shot helpers
// (transports/request.ts): it answers the handshake and sends like the reference server would,
// after a timer of 0 on the fake platform, and holds every other request (a poll) open.
import { handshakeAnswer } from './fake-platform.ts';
import type { FakePlatform } from './fake-platform.ts';
import { SyncPromise, syncResponse } from './sync-promise.ts';

export interface FetchLog {
  urls: string[];
  bodies: (string | null)[];
}

export function installFakeFetch(platform: FakePlatform): FetchLog {
  const log: FetchLog = { urls: [], bodies: [] };
  const fakeFetch = (input: string | URL | Request, init?: RequestInit) => new SyncPromise<Response>((resolve) => {
    const url = typeof input == 'string' ? input : input instanceof URL ? input.href : input.url;
    const body = (init?.body as string | undefined) ?? null;
    log.urls.push(url);
    log.bodies.push(body);
    const path = new URL(url, 'http://page.test').pathname;
    let value: unknown;
    if (path.endsWith('/handshake')) value = (handshakeAnswer() as { value: unknown }).value;
    else if (path.endsWith('/send')) {
      const ids = (JSON.parse(body ?? '{}') as { messages: { id: number }[] }).messages.map((message) => message.id);
      value = { type: 'ack', ack: Math.max(...ids), errors: [] };
    } else return; // a poll: held (an aborted request is simply never answered)
    platform.setTimeout(() => {
      resolve(syncResponse(200, 'application/json; charset=utf-8', JSON.stringify(value)));
    }, 0);
  });
  // Answers within the timer that answers the request, as a synchronous trace (sync-promise.ts).
  Object.assign(platform, { fetch: fakeFetch });
  return log;
}
