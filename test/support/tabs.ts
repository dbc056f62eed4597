// Stand-ins for the browser's Web Locks and BroadcastChannel, shared by the "pages" of one origin in
// a Node test, plus a small in-memory upstream that applies message ids as PROTOCOL.md §6.3 says.
// Each page is a fake platform (fake-platform.ts) with its own clock, transports and one-shot
// requests; `crash()` takes a page away as a closed or crashed tab goes: its locks are released
// and its queued requests dropped, its channels closed, and none of its callbacks run again.
// These are stand-ins, not browsers: the browser suites (test/browser/crosstab.test.ts) run the
// same code on the real APIs.
import { CometClientCore, type CometClientCoreOptions } from '../../src/index.ts';
import { createConnection } from '../../src/connection.ts';
import { acrossTabs } from '../../src/crosstab.ts';
import { pooled } from '../../src/pool.ts';
import { defaultOptions } from './core-harness.ts';
import { SESSION, fakeOneShot, fakePlatform, fakeTransport, frames, handshakeAnswer, type FakeOneShot, type FakePlatform, type FakeRequest, type FakeTransport, type OneShotResult } from './fake-platform.ts';

interface LockRequest {
  page: Page;
  callback: () => unknown;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
  granted: boolean;
}

interface Page {
  crashed: boolean;
}

/** One origin's lock manager: FIFO per name; a lock is held until its callback's promise settles. */
class Locks {
  queues = new Map<string, LockRequest[]>();

  request(page: Page, name: string, callback: () => unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const queue = this.queues.get(name) ?? [];
      this.queues.set(name, queue);
      queue.push({ page, callback, resolve, reject, granted: false });
      this.grant(name);
    });
  }

  grant(name: string) {
    const head = this.queues.get(name)?.[0];
    if (!head || head.granted) return;
    head.granted = true;
    queueMicrotask(() => {
      if (head.page.crashed) return;
      void Promise.resolve(head.callback()).then((value) => {
        if (head.page.crashed) return;
        this.release(name, head);
        head.resolve(value);
      });
    });
  }

  release(name: string, request: LockRequest) {
    const queue = this.queues.get(name) ?? [];
    const index = queue.indexOf(request);
    if (index >= 0) queue.splice(index, 1);
    this.grant(name);
  }

  /** The browser releases a gone page's locks and drops its queued requests. */
  crash(page: Page) {
    for (const [name, queue] of this.queues) {
      for (const request of queue.filter((candidate) => candidate.page === page)) this.release(name, request);
    }
  }

  /**
   * What WebKit does to a frame it navigates away: the page's locks are released and their
   * requests rejected, while the page's own code may still run.
   */
  revoke(page: Page) {
    for (const [name, queue] of this.queues) {
      for (const request of queue.filter((candidate) => candidate.page === page)) {
        request.page = { crashed: true };
        this.release(name, request);
        request.reject(new DOMException('the page is going', 'AbortError'));
      }
    }
  }

  held(): string[] {
    return [...this.queues].filter(([, queue]) => queue[0]?.granted).map(([name]) => name);
  }
}

interface OpenChannel {
  readonly name: string;
  readonly page: Page;
  onmessage: ((event: { data: unknown }) => void) | null;
  closed: boolean;
}

/** One origin's broadcast channels: a message goes, structured-cloned, to every other open channel of its name, in order. */
class Channels {
  open = new Set<OpenChannel>();
  /** Every message posted, in order. */
  posted: unknown[] = [];

  make(page: Page) {
    const { open, posted } = this;
    return class FakeBroadcastChannel implements OpenChannel {
      onmessage: ((event: { data: unknown }) => void) | null = null;
      closed = false;
      readonly page = page;
      constructor(readonly name: string) {
        open.add(this);
      }
      postMessage(message: unknown) {
        // As the browser does: a closed channel throws, and so does data that does not clone.
        if (this.closed) throw new DOMException('closed', 'InvalidStateError');
        const data = structuredClone(message);
        posted.push(data);
        for (const other of open) {
          if (other === this || other.name !== this.name || other.closed) continue;
          queueMicrotask(() => { if (!other.closed && !other.page.crashed) other.onmessage?.({ data: structuredClone(data) }); });
        }
      }
      close() {
        this.closed = true;
      }
    };
  }
}

/** The server side of handshakes and upstream sends: §6.3's rule per session, and every message it applied. */
export class Upstream {
  acked = new Map<string, number>();
  applied: { session: string; id: number; type: string; channel: string; data?: unknown }[] = [];
  /** Requests applied but not answered (the answer is lost with the page that sent it), when set. */
  holdAnswers = false;
  /** The session the next handshake gets; sessions the server no longer knows (expired). */
  session = SESSION;
  gone = new Set<string>();

  handshake = (): OneShotResult => handshakeAnswer({ session: this.session });

  respond = (request: FakeRequest): OneShotResult | undefined => {
    const session = request.url.searchParams.get('session') ?? '';
    if (this.gone.has(session)) return { ok: true, value: frames.close('unknown-session', 'handshake') };
    let acked = this.acked.get(session) ?? 0;
    for (const message of request.messages) {
      if (message.id <= acked) continue;
      if (message.id > acked + 1) break;
      acked = message.id;
      this.applied.push({ session, ...message });
    }
    this.acked.set(session, acked);
    return this.holdAnswers ? undefined : { ok: true, value: { type: 'ack', ack: acked, errors: [] } };
  };

  publishes(): unknown[] {
    return this.applied.filter((message) => message.type === 'publish').map((message) => message.data);
  }
}

export interface TabPage extends Page {
  platform: FakePlatform;
  sse: FakeTransport;
  io: FakeOneShot;
  logs: string[];
  client(options?: Partial<CometClientCoreOptions>): CometClientCore;
}

/** An origin: pages made with `page()` share its locks and channels. */
export function origin(options: { withLocks?: boolean | 'refused'; withChannel?: boolean } = {}) {
  const locks = new Locks();
  const channels = new Channels();
  const upstream = new Upstream();
  const pages: TabPage[] = [];
  let seed = 1;
  const page = (): TabPage => {
    const platform = fakePlatform({ seed: seed++ });
    const self: TabPage = {
      crashed: false,
      platform,
      sse: fakeTransport(platform, 'eventsource'),
      io: fakeOneShot(platform, { handshake: upstream.handshake, send: upstream.respond }),
      logs: [],
      // A pool per page, over the cross-tab share, as CometClient has it.
      client: (extra = {}) => new CometClientCore('http://page.test/comet', {
        ...defaultOptions(platform, [self.sse]), connect: connect, logger: (message) => self.logs.push(message), ...extra,
      }),
    };
    const connect = pooled(acrossTabs(createConnection));
    Object.assign(platform, {
      location: { href: 'http://page.test/app/' },
      navigator: options.withLocks === false ? {} : {
        // Refused: what an opaque origin or a sandboxed frame gets (Chromium: also a third-party frame).
        locks: { request: (name: string, callback: () => unknown) => options.withLocks === 'refused' ? Promise.reject(new DOMException('denied', 'SecurityError')) : locks.request(self, name, callback) },
      },
      BroadcastChannel: options.withChannel === false ? undefined : channels.make(self),
    });
    pages.push(self);
    return self;
  };
  /** Runs every page's due timers and the microtasks they start, until nothing moves. */
  const settle = async () => {
    for (let round = 0; round < 30; round++) {
      for (const each of pages) if (!each.crashed) each.platform.flush();
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const crash = (gone: TabPage) => {
    gone.crashed = true;
    for (const channel of channels.open) if (channel.page === gone) channel.closed = true;
    locks.crash(gone);
  };
  return { page, pages, settle, crash, locks, channels, upstream };
}
