// Server-Sent Events through the browser's EventSource. The browser parses the stream; we take
// each event's data as one JSON value. EventSource's own reconnect is switched off by closing it
// on the first error: the client decides when and where to resume (with `since`).
import type { Transport, TransportExchange, TransportListener, TransportRequest } from './types.ts';
import type { Platform } from '../src/platform.ts';

function open(platform: Platform, request: TransportRequest, listener: TransportListener): TransportExchange {
  const EventSourceImpl = platform.EventSource;
  if (!EventSourceImpl) throw new Error('EventSource is not available');
  const source = new EventSourceImpl(request.url, { withCredentials: request.withCredentials });
  let done = false;
  const finish = (failure?: Parameters<TransportListener['onEnd']>[0]) => {
    if (done) return;
    done = true;
    source.close();
    listener.onEnd(failure);
  };
  source.onmessage = (event: MessageEvent<string>) => {
    if (done) return;
    let value: unknown;
    try {
      value = JSON.parse(event.data);
    } catch {
      finish({ type: 'malformed', detail: 'an event whose data is not JSON' });
      return;
    }
    listener.onValues([value]);
  };
  source.onerror = () => {
    // [spec] A wrong status or Content-Type fails the connection (readyState CLOSED); a network
    // error after the stream opened leaves it CONNECTING for an automatic retry we do not want.
    // EventSource tells the two apart only that way and never exposes the HTTP status.
    const failedToOpen = source.readyState === EventSourceImpl.CLOSED;
    finish(failedToOpen
      ? { type: 'http-status', detail: 'the stream was refused (status or content type)' }
      : { type: 'network', detail: 'the stream was interrupted' });
  };
  return {
    close() {
      done = true;
      source.close();
    },
  };
}

export const eventsource: Transport = {
  name: 'eventsource',
  resource: 'sse',
  streaming: true,
  isSupported: (platform) => platform.EventSource !== undefined,
  open,
};
