// Helpers the browser suites share: where the fixture server is, the raw protocol calls a
// transport-level test needs, and waiting on a condition with a generous bound.

export interface FixtureEnv {
  /** The reference server mounted in the test runner's own origin. */
  sameOrigin: string;
  /** The reference server on another port: another origin, CORS allowed for any origin. */
  crossOrigin: string;
}

export async function fixtureEnv(): Promise<FixtureEnv> {
  const response = await fetch('/__fixture/env');
  return (await response.json()) as FixtureEnv;
}

export interface Handshake { session: string; seq: number; transports: string[] }

export async function handshake(endpoint: string): Promise<Handshake> {
  const response = await fetch(`${endpoint}/handshake?v=1`, { method: 'POST' });
  return (await response.json()) as Handshake;
}

export async function send(endpoint: string, session: string, messages: unknown[]): Promise<unknown> {
  const response = await fetch(`${endpoint}/send?session=${session}`, {
    method: 'POST',
    headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
    body: JSON.stringify({ messages }),
  });
  return response.json();
}

/** Asks the fixture to publish `count` messages `{ index, pad }` on a channel of the given server. */
export async function publish(endpoint: string, channel: string, count = 1, size = 0): Promise<void> {
  const control = endpoint.replace(/\/comet$/, '/__fixture');
  await fetch(`${control}/publish?channel=${encodeURIComponent(channel)}&count=${count}&size=${size}`);
}

/** Resolves once the condition holds; rejects after a generous bound so a stuck test fails clearly. */
export function waitFor(condition: () => boolean, what: string, timeoutMs = 15000): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const check = () => {
      if (condition()) resolve();
      else if (Date.now() - started > timeoutMs) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(check, 10);
    };
    check();
  });
}
