// Reconnect delays: exponential backoff with "full jitter", as in Marc Brooker, "Exponential Backoff
// And Jitter", AWS Architecture Blog, 2015: sleep = random_between(0, min(cap, base * 2 ** attempt)).
// The delay stays random once the cap is reached, so clients cut at the same moment (a server
// restart) do not come back in lockstep. The server's `retryMs` (PROTOCOL.md §4, §8.2) is a floor
// the jitter is added to: clamping the draw to the floor instead would send every client whose draw
// fell below it back at the same instant (with the defaults, all of them on the first retry).

/** The policy's delays; a missing one takes its default (see `CometClientCoreOptions.reconnect`). */
export interface BackoffPolicy {
  initialDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * The delay before retry number `attempt` (0 for the first retry after a success): at least
 * `floorMs`, at most `floorMs + maxDelayMs`.
 * @param random a number in [0, 1), injectable for tests
 * @param floorMs the server's `retryMs`, or 0
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number, floorMs = 0): number {
  // 2 ** 30 is past any cap; the bound keeps 0 * Infinity (NaN) out when initialDelayMs is 0.
  return floorMs + random() * Math.min(policy.maxDelayMs ?? 30000, (policy.initialDelayMs ?? 1000) * 2 ** Math.min(attempt, 30));
}
