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

function safeStorage(scope: typeof globalThis): KeyValueStorage | undefined {
  try {
    // Reading localStorage throws in sandboxed frames and with storage disabled.
    return scope.localStorage;
  } catch {
    return undefined;
  }
}

/** The platform of the page the client runs in (or any global scope that has these objects). */
export function browserPlatform(scope: typeof globalThis = globalThis): Platform {
  const maybe = scope as typeof globalThis & { ActiveXObject?: ActiveXObjectConstructor };
  return {
    setTimeout: (callback, delayMs) => scope.setTimeout(callback, delayMs),
    clearTimeout: (handle) => { scope.clearTimeout(handle as ReturnType<typeof setTimeout>); },
    now: () => Date.now(),
    random: () => Math.random(),
    XMLHttpRequest: typeof scope.XMLHttpRequest === 'function' ? scope.XMLHttpRequest : undefined,
    EventSource: typeof scope.EventSource === 'function' ? scope.EventSource : undefined,
    document: typeof scope.document === 'object' ? scope.document : undefined,
    window: typeof scope.window === 'object' ? scope.window : undefined,
    storage: safeStorage(scope),
    ActiveXObject: typeof maybe.ActiveXObject === 'function' ? maybe.ActiveXObject : undefined,
  };
}
