// Platforms for the Bayeux suites in Node: the real timers and clock, and a fetch with a cookie jar
// of its own, as a browser has (CometD finds a session by its BAYEUX_BROWSER cookie; Node's fetch
// keeps no cookies). Each jar is one "browser". Optionally an EventSource (the eventsource package,
// over the same fetch) or a jsdom page that runs scripts (callback-polling).
import { EventSource } from 'eventsource';
import type { Platform } from '../../src/platform.ts';
import { scriptedPage } from './dom.mjs';

/** A fetch that stores the cookies its answers set and sends them back, per origin-less jar. */
export function cookieFetch(): typeof fetch {
  const jar = new Map<string, string>();
  return async (input, init) => {
    const headers = new Headers(init?.headers);
    if (jar.size) headers.set('Cookie', [...jar].map(([name, value]) => `${name}=${value}`).join('; '));
    const response = await fetch(input, { ...init, headers });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const equals = pair.indexOf('=');
      if (equals > 0) jar.set(pair.slice(0, equals).trim(), pair.slice(equals + 1).trim());
    }
    return response;
  };
}

export interface NodePlatform extends Platform {
  close(): void;
}

/** `fetch`: share a cookie jar with another platform (two tabs of one browser). */
export function nodePlatform(options: { eventSource?: boolean; page?: boolean; fetch?: typeof fetch | undefined } = {}): NodePlatform {
  const fetch = options.fetch ?? cookieFetch();
  const page = options.page ? scriptedPage({ url: 'http://app.test/' }) : undefined;
  return {
    setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
    clearTimeout: (handle) => { clearTimeout(handle as NodeJS.Timeout); },
    Date,
    Math,
    fetch,
    EventSource: options.eventSource ? class extends EventSource {
      constructor(url: string | URL, init?: EventSourceInit) {
        super(url, { ...init, fetch });
      }
    } : undefined,
    document: page?.window.document,
    window: page?.window,
    close: () => page?.close(),
  };
}
