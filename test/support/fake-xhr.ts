// A stand-in XMLHttpRequest for client tests that go through the real one-shot helpers
// (transports/request.ts): it answers the handshake and sends like the reference server would,
// after a timer of 0 on the fake platform, and holds every other request (a poll) open.
import { handshakeAnswer } from './fake-platform.ts';
import type { FakePlatform } from './fake-platform.ts';

export interface XhrLog {
  urls: string[];
  bodies: (string | null)[];
}

export function installFakeXhr(platform: FakePlatform): XhrLog {
  const log: XhrLog = { urls: [], bodies: [] };
  class FakeXhr {
    readyState = 0;
    status = 0;
    responseText = '';
    withCredentials = false;
    onreadystatechange: (() => void) | null = null;
    private url = '';
    open(_method: string, url: string) {
      this.url = url;
      this.readyState = 1;
    }
    setRequestHeader() {
      // headers are not checked here
    }
    getResponseHeader(name: string) {
      return name.toLowerCase() === 'content-type' ? 'application/json; charset=utf-8' : null;
    }
    abort() {
      // an aborted request is simply never answered
    }
    send(body: string | null) {
      log.urls.push(this.url);
      log.bodies.push(body);
      const path = new URL(this.url, 'http://page.test').pathname;
      let value: unknown;
      if (path.endsWith('/handshake')) value = (handshakeAnswer() as { value: unknown }).value;
      else if (path.endsWith('/send')) {
        const ids = (JSON.parse(body ?? '{}') as { messages: { id: number }[] }).messages.map((message) => message.id);
        value = { type: 'ack', ack: Math.max(...ids), errors: [] };
      } else return; // a poll: held
      platform.setTimeout(() => {
        this.readyState = 4;
        this.status = 200;
        this.responseText = JSON.stringify(value);
        this.onreadystatechange?.();
      }, 0);
    }
  }
  Object.assign(platform, { XMLHttpRequest: FakeXhr });
  return log;
}
