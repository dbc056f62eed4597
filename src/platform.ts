// Everything the client touches in its environment goes through one object, so that jsdom tests,
// tests with fake timers and real browsers all run the same code. `browserPlatform()` is the real one.

/** A timer handle as the platform returns it; only ever passed back to `clearTimeout`. */
export type TimerHandle = unknown;

/** The subset of `Storage` the client uses to remember which transport worked per origin. */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** Constructor of the legacy IE `ActiveXObject`, used only for the htmlfile forever frame. */
export type ActiveXObjectConstructor = new (progId: string) => unknown;

export interface Platform {
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /** Wall-clock milliseconds. Liveness is judged against it because background tabs fire timers late. */
  now(): number;
  /** A number in [0, 1): the jitter source. */
  random(): number;
  readonly XMLHttpRequest: typeof XMLHttpRequest | undefined;
  readonly EventSource: typeof EventSource | undefined;
  readonly document: Document | undefined;
  /** Where `online`, `pageshow` and `message` events are heard, and the page's `location`. */
  readonly window: Window | undefined;
  readonly storage: KeyValueStorage | undefined;
  readonly ActiveXObject: ActiveXObjectConstructor | undefined;
}

/** The platform of the page the client runs in (or any global scope that has these objects). */
export function browserPlatform(scope: typeof globalThis = globalThis): Platform {
  const globals = scope as typeof globalThis & { ActiveXObject?: ActiveXObjectConstructor };
  let storage: KeyValueStorage | undefined;
  try {
    storage = globals.localStorage;
  } catch {
    // Reading localStorage throws in sandboxed frames and with storage disabled.
  }
  return {
    setTimeout: (callback, delayMs) => globals.setTimeout(callback, delayMs),
    clearTimeout: (handle) => { globals.clearTimeout(handle as ReturnType<typeof setTimeout>); },
    now: Date.now,
    random: Math.random,
    // Absent in Node and in workers; feature detection reads these as undefined.
    XMLHttpRequest: globals.XMLHttpRequest,
    EventSource: globals.EventSource,
    document: globals.document,
    window: globals.window,
    storage,
    ActiveXObject: globals.ActiveXObject,
  };
}
