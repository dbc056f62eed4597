// Chooses the downstream transport. Candidates are the application's preference filtered by what the
// handshake offers and by feature detection (never the user agent). A transport counts as working
// once it proves itself (a streaming transport's first frame within `probeTimeoutMs`, a poll's
// answer); until then a failure moves on to the next candidate. That much is the core both
// negotiators share (`negotiate`). `createNegotiator` adds a memory per endpoint origin of what
// worked and what failed its probe, so the next page skips known failures, and reprobes: after
// falling back, a better transport is tried again now and then, always in place of the current
// request, never beside it. The connection drives it; this module does no I/O.
import type { CometErrorType } from './errors.ts';
import type { Platform } from './platform.ts';
import type { Logger, Transport, TransportName } from '../transports/contract.ts';

/** Why the transport was chosen or changed. */
export type TransportReason =
  | 'preferred'      // the first candidate
  | 'remembered'     // storage says it worked here, or that better ones failed their probe
  | 'fallback'       // the previous candidate failed before proving itself
  | 'reprobe'        // time to try a better transport again
  | 'reprobe-failed'; // the better transport failed again: back to the one that works

/** Its functions are called unbound (they use no `this`). */
export interface Negotiator {
  /**
   * A new session: candidates from the handshake's `transports`; keeps a working transport still
   * offered. `scriptOnly`: the endpoint is reached by script, so only script transports qualify.
   */
  start: (offered: readonly string[], scriptOnly: boolean) => void;
  current: () => Transport | undefined;
  /** Whether the current transport has proven itself in this connection. */
  confirmed: () => boolean;
  /** The current transport proved itself. */
  confirm: () => void;
  /**
   * The current transport failed, with an error of `type`. Returns whether another one is to be
   * tried at once: only while the transport has not proven itself.
   */
  fail: (type: CometErrorType) => boolean;
  /** Called before a planned new request (a poll, a recycle): switches to a reprobe when one is due. */
  next?: () => void;
}

export interface NegotiatorOptions {
  platform: Platform;
  /** The endpoint URL (what is remembered is remembered per its origin). */
  endpoint: string;
  /** The transports, in the application's order of preference. */
  preference: readonly Transport[];
  /** `CometClientCoreOptions.reprobeMs` as given (`createNegotiator` defaults it). */
  reprobeMs: number | undefined;
  /** Told each choice, with its reason (the connection's `transport` event). */
  chose: (name: TransportName, reason: TransportReason) => void;
  log: Logger;
}

/** The signature of both negotiators below, so the connection takes either. */
export type NegotiatorFactory = (options: NegotiatorOptions) => Negotiator;

/** What `createNegotiator` adds to the core: each hook is called at that point of the negotiation. */
interface Extension {
  /**
   * A new session's candidates: the index of the one to start with when none of them has proven
   * itself (past 0, it was `remembered`).
   */
  first(candidates: readonly Transport[]): number;
  /** `transport` proved itself, where another one (or none) had. */
  worked(transport: Transport): void;
  /** `transport` failed before proving itself, with an error of `type`. */
  failed(transport: Transport, type: CometErrorType): void;
  /** A reprobe failed: the connection goes back to the transport that works. */
  reprobeFailed(): void;
  /** Whether a reprobe is due. */
  reprobeDue(): boolean;
}

/** The preference filtered by what the handshake offers and what the engine supports. */
const candidatesFor = (platform: Platform, preference: readonly Transport[], offered: readonly string[], scriptOnly: boolean) =>
  preference.filter((transport) =>
    offered.includes(transport.resource) && (!scriptOnly || !!transport.script) && transport.isSupported(platform));

/**
 * The core: the candidates of the session, the current one, the one that proved itself (kept
 * across sessions while offered), the fallback to the next; with `extension`, what it adds.
 */
function negotiate({ platform, preference, chose }: NegotiatorOptions, extension?: Extension): Negotiator {
  let candidates: readonly Transport[] = [];
  let index = 0;
  /** The transport that proved itself (in this session or the one before). */
  let working: Transport | undefined;
  const current = () => candidates[index];
  const confirmed = () => !!working && current() == working;
  const choose = (to: number, reason: TransportReason) => {
    const transport = candidates[index = to];
    if (transport) chose(transport.name, reason);
  };
  return {
    start(offered, scriptOnly) {
      candidates = candidatesFor(platform, preference, offered, scriptOnly);
      const first = extension?.first(candidates) ?? 0;
      index = (candidates as unknown[]).indexOf(working);
      if (index < 0) choose(first, first > 0 ? 'remembered' : 'preferred');
    },
    current,
    confirmed,
    confirm() {
      const transport = current();
      if (transport && transport != working) {
        working = transport;
        extension?.worked(transport);
      }
    },
    fail(type) {
      const transport = current();
      if (!transport || transport == working) return false;
      extension?.failed(transport, type);
      // A reprobe (the working transport comes later) goes back to the working one.
      const back = (candidates as unknown[]).indexOf(working);
      if (back > index) {
        extension?.reprobeFailed();
        choose(back, 'reprobe-failed');
      } else if (index + 1 < candidates.length) choose(index + 1, 'fallback');
      else return false;
      return true;
    },
    // Only `createNegotiator` reprobes.
    next() {
      if (index && confirmed() && extension?.reprobeDue()) choose(0, 'reprobe');
    },
  };
}

/**
 * The negotiator `CometClientCore` uses unless given `createNegotiator`: the candidates in
 * preference order, each probed, a failed one handing over to the next; no memory, no reprobe and
 * no trace in the logger (the `transport` events tell each choice), which only pay with several
 * transports (an app with one transport does not carry them).
 */
export const inOrder: NegotiatorFactory = (options) => negotiate(options);

/** The full negotiator `CometClient` uses: the core, plus memory per origin and reprobes. */
export const createNegotiator: NegotiatorFactory = (options) => {
  const { platform, endpoint, log } = options;
  let reprobeMs = options.reprobeMs ?? 60000;
  let reprobeAt = 0;
  const memory = originMemory(platform, endpoint);
  return negotiate(options, {
    first(candidates) {
      const names = candidates.map((transport) => transport.name);
      log('candidates', names);
      const { worked, failed } = memory.read();
      // What worked here, else the first not known to fail, else the last.
      const index = names.indexOf(worked as TransportName);
      return index < 0 ? names.findIndex((name, at) => !failed.includes(name) || at == names.length - 1) : index;
    },
    worked(transport) {
      log('working', transport.name);
      reprobeAt = platform.Date.now() + reprobeMs;
      memory.store(transport.name, true);
    },
    failed(transport, type) {
      log('failed', transport.name);
      // Only a failure that says something about the transport itself is remembered: a network
      // one, an error status or an answer out of protocol may come from elsewhere, and a bug
      // (an exception in the transport's code) is no fact about the engine.
      if (type != 'network' && type != 'http-status' && type != 'protocol' && type != 'bug') memory.store(transport.name, false);
    },
    reprobeFailed() {
      // Each failed reprobe doubles the wait before the next.
      reprobeAt = platform.Date.now() + (reprobeMs *= 2);
    },
    reprobeDue: () => platform.Date.now() >= reprobeAt,
  });
};

/** What is remembered per origin: the transport that worked (the one to start with), then those that failed their probe (to skip). */
interface Remembered {
  worked: unknown;
  failed: unknown[];
}

/**
 * The memory of one endpoint origin in `localStorage`, stored as `[worked, ...failed]`. Storage is
 * an optimisation: disabled, full or corrupt storage only costs a probe.
 */
function originMemory(platform: Platform, endpoint: string) {
  // A relative endpoint is on the page's origin.
  const key = 'cometkit:' + (/^https?:\/\/[^/?#]+/i.exec(endpoint)?.[0] ?? platform.window?.location.origin ?? '').toLowerCase();
  const read = (): Remembered => {
    try {
      const stored: unknown = JSON.parse(platform.localStorage?.getItem(key) ?? '0');
      if (Array.isArray(stored)) {
        const [worked, ...failed] = stored as unknown[];
        return { worked, failed };
      }
    } catch {
      // as below
    }
    return { worked: undefined, failed: [] };
  };
  return {
    read,
    /** Stores that `name` worked, or failed its probe. */
    store(name: TransportName, worked: boolean) {
      const remembered = read();
      const stored = [worked ? name : remembered.worked === name ? null : remembered.worked, ...remembered.failed.filter((each) => each !== name), ...worked ? [] : [name]];
      try {
        platform.localStorage?.setItem(key, JSON.stringify(stored));
      } catch {
        // disabled or full: only costs a probe
      }
    },
  };
}
