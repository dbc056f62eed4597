// Chooses the downstream transport. Candidates are the application's preference filtered by what the
// handshake offers and by feature detection (never the user agent). A transport counts as working
// once it proves itself (a streaming transport's first frame within `probeTimeoutMs`, a poll's
// answer); until then a failure other than a network one moves on to the next candidate. What worked
// and what failed its probe is remembered per endpoint origin, so the next page skips known
// failures. After falling back, a better transport is probed again now and then, always in place
// of the current request, never beside it. The connection drives it; this module does no I/O.
import type { CometErrorType } from './errors.ts';
import type { Platform } from './platform.ts';
import type { Transport, TransportName } from '../transports/contract.ts';

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
  start(offered: readonly string[], scriptOnly: boolean): void;
  current: () => Transport | undefined;
  /** Whether the current transport has proven itself in this connection. */
  confirmed: () => boolean;
  confirm(): void;
  /**
   * The current transport failed, with an error of `type`. Returns whether another one is to be
   * tried at once: only while the transport has not proven itself.
   */
  fail(type: CometErrorType): boolean;
  /** Called before a planned new request (a poll, a recycle): switches to a reprobe when one is due. */
  next?(): void;
}

/** The signature of both choosers below, so the connection takes either. */
export type NegotiatorFactory = (
  platform: Platform,
  /** The endpoint URL (what is remembered is remembered per its origin). */
  endpoint: string,
  preference: readonly Transport[],
  /** The option as given (`createNegotiator` defaults it). */
  reprobeMs: number | undefined,
  chose: (name: TransportName, reason: TransportReason) => void,
  log: (message: string, detail?: unknown) => void,
) => Negotiator;

/** The preference filtered by what the handshake offers and what the engine supports. */
const candidatesFor = (platform: Platform, preference: readonly Transport[], offered: readonly string[], scriptOnly: boolean) =>
  preference.filter((transport) =>
    offered.includes(transport.resource) && (!scriptOnly || !!transport.script) && transport.isSupported(platform));

/**
 * The chooser `CometClientCore` uses unless given `createNegotiator`: the candidates in preference
 * order, each probed, a failed one handing over to the next; no memory, no reprobe and no trace in
 * the logger (the `transport` events tell each choice), which only pay with several transports (an
 * app with one transport does not carry them).
 */
export const inOrder: NegotiatorFactory = (platform, _endpoint, preference, _reprobeMs, chose) => {
  let candidates: Transport[] = [];
  let index = 0;
  /** The transport that proved itself (in this session or the one before). */
  let working: Transport | undefined;
  const current = () => candidates[index];
  /** Switches to candidate `to`; returns true, for `fail`. */
  const choose = (to: number, reason: TransportReason) => {
    const transport = candidates[index = to];
    if (transport) chose(transport.name, reason);
    return true;
  };
  return {
    start(offered, scriptOnly) {
      candidates = candidatesFor(platform, preference, offered, scriptOnly);
      index = (candidates as unknown[]).indexOf(working);
      if (index < 0) choose(0, 'preferred');
    },
    current,
    confirmed: () => !!working && current() == working,
    confirm() {
      working = current();
    },
    fail: () => current() != working && index + 1 < candidates.length && choose(index + 1, 'fallback'),
  };
};

/**
 * The full negotiator `CometClient` uses: `inOrder`, plus memory per origin and reprobes (written
 * like `inOrder` where it does the same, which the compressed bundle rewards).
 */
export const createNegotiator: NegotiatorFactory = (platform, endpoint, preference, reprobeMs = 60000, chose, log) => {
  // A relative endpoint is on the page's origin.
  const key = 'cometkit:' + (/^https?:\/\/[^/?#]+/i.exec(endpoint)?.[0] ?? platform.window?.location.origin ?? '').toLowerCase();
  let candidates: Transport[] = [];
  let index = 0;
  /** The transport that proved itself (in this session or the one before). */
  let working: Transport | undefined;
  let reprobeAt = 0;
  const current = () => candidates[index];
  /** Switches to candidate `to`; returns true, for `fail`. */
  const choose = (to: number, reason: TransportReason) => {
    const transport = candidates[index = to];
    if (transport) chose(transport.name, reason);
    return true;
  };

  /**
   * What is stored: the name of the transport that worked (the one to start with, or null), then
   * those that failed their probe (to skip). Storage is an optimisation: disabled, full or corrupt
   * storage only costs a probe.
   */
  const read = (): unknown[] => {
    try {
      const stored: unknown = JSON.parse(platform.localStorage?.getItem(key) ?? '0');
      return Array.isArray(stored) ? stored : [];
    } catch {
      return [];
    }
  };
  /** Stores that `name` worked or failed its probe. */
  const store = (name: TransportName, worked?: boolean) => {
    const [ok, ...bad] = read();
    try {
      platform.localStorage?.setItem(key, JSON.stringify([worked ? name : ok === name ? null : ok, ...bad.filter((each) => each !== name), ...worked ? [] : [name]]));
    } catch {
      // as above
    }
  };

  return {
    start(offered, scriptOnly) {
      candidates = candidatesFor(platform, preference, offered, scriptOnly);
      index = (candidates as unknown[]).indexOf(working);
      const names = candidates.map((transport) => transport.name);
      log('candidates', names);
      if (index < 0) {
        const [ok, ...bad] = read();
        // What worked here, else the first not known to fail, else the last.
        let first = names.indexOf(ok as TransportName);
        if (first < 0) first = names.findIndex((name, at) => !bad.includes(name) || at == names.length - 1);
        choose(first, first > 0 ? 'remembered' : 'preferred');
      }
    },
    current,
    confirmed: () => !!working && current() == working,
    confirm() {
      const transport = current();
      if (transport && transport != working) {
        log('working', transport.name);
        working = transport;
        reprobeAt = platform.Date.now() + reprobeMs;
        store(transport.name, true);
      }
    },
    fail(type) {
      const transport = current();
      if (!transport || transport == working) return false;
      log('failed', transport.name);
      // Only a failure that says something about the transport itself is remembered: a network
      // one, an error status or an answer out of protocol may come from elsewhere.
      if (type != 'network' && type != 'http-status' && type != 'protocol') store(transport.name);
      // A reprobe (the working transport comes later) goes back; each failed one doubles the wait
      // before the next.
      const back = (candidates as unknown[]).indexOf(working);
      return back > index ? (reprobeAt = platform.Date.now() + (reprobeMs *= 2), choose(back, 'reprobe-failed'))
        : index + 1 < candidates.length && choose(index + 1, 'fallback');
    },
    next() {
      if (index && !!working && current() == working && platform.Date.now() >= reprobeAt) choose(0, 'reprobe');
    },
  };
};
