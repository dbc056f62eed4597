// Server-Sent Events through the browser's EventSource. The browser parses the stream; we take
// each event's data as one JSON value. EventSource's own reconnect is switched off by closing it
// on the first error: the client decides when and where to resume (with `since`).
import { fail, type Transport, type TransportFailure } from './contract.ts';
import type { Platform } from '../src/platform.ts';
import { malformed } from './shared.ts';

export const eventsource: Transport = {
  name: 'eventsource',
  resource: 'sse',
  streaming: true,
  isSupported: (platform) => !!platform.EventSource,
  open(platform, { url, withCredentials }, listener) {
    const source = new (platform as Required<Platform>).EventSource(url, { withCredentials });
    // Unhooked first: nothing a closed source still has queued reaches the listener.
    const close = () => {
      source.onmessage = source.onerror = null;
      source.close();
    };
    const finish = (failure: TransportFailure) => {
      close();
      listener.onEnd(failure);
    };
    source.onmessage = (event: MessageEvent<string>) => {
      let value: unknown;
      try {
        value = JSON.parse(event.data);
      } catch {
        return finish(malformed());
      }
      listener.onValues([value]);
    };
    // [spec] A wrong status or Content-Type fails the connection (readyState CLOSED, 2); a network
    // error after the stream opened leaves it CONNECTING for an automatic retry we do not want.
    // EventSource tells the two apart only that way and never exposes the HTTP status.
    source.onerror = () => {
      finish(source.readyState > 1 ? fail('http-status', 'refused') : fail('network', 'interrupted'));
    };
    return { close };
  },
};
