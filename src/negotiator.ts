// Chooses the downstream transport. Candidates are the application's preference filtered by what the
// handshake offers and by feature detection (never the user agent). A transport counts as working
// once it proves itself (a streaming transport's first frame within `probeTimeoutMs`, a poll's
// answer); until then a failure other than a network one moves on to the next candidate. What worked
// and what failed its probe is remembered per endpoint origin, so the next page skips known
// failures. After falling back, a better transport is probed again now and then, always in place
// of the current request, never beside it. The connection drives it; this module does no I/O.
import type { Platform } from './platform.ts';
import type { Transport, TransportName } from '../transports/types.ts';

/** Why the transport was chosen or changed. */
export type TransportReason =
  | 'preferred'      // the first candidate
  | 'remembered'     // storage says it worked here, or that better ones failed their probe
  | 'fallback'       // the previous candidate failed before proving itself
  | 'reprobe'        // time to try a better transport again
  | 'reprobe-failed'; // the better transport failed again: back to the one that works

export interface Negotiator {
  /** A new session: candidates from the handshake's `transports`; keeps a working transport still offered. */
  start(offered: readonly string[], scriptOnly: boolean): void;
  current(): Transport | undefined;
  /** Whether the current transport has proven itself in this connection. */
  confirmed(): boolean;
  confirm(): void;
  /**
   * The current transport failed before proving itself. Returns whether another one is to be
   * tried at once. `remember`: the failure is evidence against the transport (not a network one).
   */
  fail(remember: boolean): boolean;
  /** Called before a planned new request (a poll, a recycle): switches to a reprobe when one is due. */
  next(): void;
}

interface Memory {
  ok?: TransportName | undefined;
  bad?: TransportName[];
}

/** Transports that reach a cross-origin endpoint without CORS (PROTOCOL.md §10). */
export const isScriptTransport = (transport: Transport): boolean => transport.name === 'jsonp' || transport.name === 'iframe';

export function createNegotiator(
  platform: Platform,
  origin: string,
  preference: readonly Transport[],
  reprobeMs: number,
  chose: (name: TransportName, reason: TransportReason) => void,
  log: (message: string, detail?: unknown) => void,
): Negotiator {
  const key = 'cometkit:' + origin;
  let candidates: Transport[] = [];
  let index = 0;
  /** The index of the transport that proved itself, -1 before one did. */
  let working = -1;
  let reprobeDelayMs = reprobeMs;
  let reprobeAt = 0;

  // Storage is an optimisation: disabled, full or corrupt storage only costs a probe.
  const read = (): Memory => {
    try {
      const memory = JSON.parse(platform.storage?.getItem(key) ?? '{}') as Memory | null;
      return { ok: memory?.ok, bad: Array.isArray(memory?.bad) ? memory.bad : [] };
    } catch {
      return { bad: [] };
    }
  };
  const write = (memory: Memory) => {
    try {
      platform.storage?.setItem(key, JSON.stringify(memory));
    } catch {
      // as above
    }
  };
  const choose = (to: number, reason: TransportReason) => {
    index = to;
    const transport = candidates[to];
    if (transport) chose(transport.name, reason);
  };

  return {
    start(offered, scriptOnly) {
      const previous = candidates[working];
      candidates = preference.filter((transport) =>
        offered.includes(transport.resource) && (!scriptOnly || isScriptTransport(transport)) && transport.isSupported(platform));
      log('candidates', candidates.map((transport) => transport.name));
      if (previous && candidates.includes(previous)) {
        index = working = candidates.indexOf(previous);
        return;
      }
      working = -1;
      const { ok, bad = [] } = read();
      const remembered = candidates.findIndex((transport) => transport.name === ok);
      const untried = candidates.findIndex((transport) => !bad.includes(transport.name));
      const first = remembered < 0 ? (untried < 0 ? candidates.length - 1 : untried) : remembered;
      choose(first, first > 0 ? 'remembered' : 'preferred');
    },
    current: () => candidates[index],
    confirmed: () => index === working,
    confirm() {
      const transport = candidates[index];
      if (!transport || index === working) return;
      log('working', transport.name);
      working = index;
      reprobeAt = platform.now() + reprobeDelayMs;
      write({ ok: transport.name, bad: read().bad?.filter((name) => name !== transport.name) });
    },
    fail(remember) {
      const transport = candidates[index];
      if (!transport || index === working) return false;
      log('failed', transport.name);
      if (remember) {
        const { ok, bad = [] } = read();
        write({ ok: ok === transport.name ? undefined : ok, bad: bad.filter((name) => name !== transport.name).concat(transport.name) });
      }
      if (working > index) {
        // Each failed reprobe doubles the wait before the next one.
        reprobeAt = platform.now() + (reprobeDelayMs *= 2);
        choose(working, 'reprobe-failed');
        return true;
      }
      if (index + 1 >= candidates.length) return false;
      choose(index + 1, 'fallback');
      return true;
    },
    next() {
      if (working > 0 && index === working && platform.now() >= reprobeAt) choose(0, 'reprobe');
    },
  };
}
