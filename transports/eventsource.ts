// Server-Sent Events through the browser's EventSource. The browser parses the stream; we take
// each event's data as one JSON value. EventSource's own reconnect is switched off by closing it
// on the first error: the client decides when and where to resume (with `since`).
import type { Transport, TransportFailure } from './types.ts';
import { fail, malformed, need } from './shared.ts';

export const eventsource: Transport = {
  name: 'eventsource',
  resource: 'sse',
  streaming: true,
  isSupported: (platform) => !!platform.EventSource,
  open(platform, request, listener) {
    const EventSourceImpl = need(platform.EventSource, 'EventSource');
    const source = new EventSourceImpl(request.url, { withCredentials: request.withCredentials });
    let done = false;
    const close = () => {
      done = true;
      source.close();
    };
    const finish = (failure?: TransportFailure) => {
      if (done) return;
      close();
      listener.onEnd(failure);
    };
    source.onmessage = (event: MessageEvent<string>) => {
      let value: unknown;
      try {
        value = JSON.parse(event.data);
      } catch {
        return finish(malformed('data not JSON'));
      }
      if (!done) listener.onValues([value]);
    };
    // [spec] A wrong status or Content-Type fails the connection (readyState CLOSED); a network
    // error after the stream opened leaves it CONNECTING for an automatic retry we do not want.
    // EventSource tells the two apart only that way and never exposes the HTTP status.
    source.onerror = () => {
      finish(source.readyState == EventSourceImpl.CLOSED ? fail('http-status', 'stream refused') : fail('network', 'stream interrupted'));
    };
    return { close };
  },
};
