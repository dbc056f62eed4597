// Everything the client touches in its environment goes through one object, so that jsdom tests,
// tests with fake timers and real browsers all run the same code. It is shaped like the global
// scope (`setTimeout`, `Date`, `Math`, `XMLHttpRequest`, ...), so that in a page the global scope
// itself is the platform and nothing has to be built or bundled for it.

/** A timer handle as the platform returns it; only ever passed back to `clearTimeout`. */
export type TimerHandle = unknown;

/** The subset of `Storage` the client uses to remember which transport worked per origin. */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** Constructor of the legacy IE `ActiveXObject`, used only for the htmlfile forever frame. */
export type ActiveXObjectConstructor = new (progId: string) => unknown;

/** The members are called as methods of the platform (`platform.setTimeout(...)`), as on `window`. */
export interface Platform {
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /** `Date.now()`: wall-clock milliseconds. Liveness is judged against it because background tabs fire timers late. */
  readonly Date: { now(): number };
  /** `Math.random()`: a number in [0, 1), the jitter source. */
  readonly Math: { random(): number };
  /** Absent in workers and Node; feature detection reads these as undefined. */
  readonly XMLHttpRequest?: typeof XMLHttpRequest | undefined;
  /** The one-shot requests (handshake, sends) and long polling; called as `platform.fetch(...)`. */
  readonly fetch?: typeof fetch | undefined;
  readonly EventSource?: typeof EventSource | undefined;
  readonly document?: Document | undefined;
  /** Where `online`, `pageshow` and `message` events are heard, and the page's `location`. */
  readonly window?: Window | undefined;
  /** Only read inside `try`: reading `localStorage` throws in sandboxed frames and with storage disabled. */
  readonly localStorage?: KeyValueStorage | undefined;
  readonly ActiveXObject?: ActiveXObjectConstructor | undefined;
}

/** The platform of the page the client runs in: its global scope (or any scope that has these objects). */
export const browserPlatform = (scope: object = globalThis): Platform => scope as Platform;
