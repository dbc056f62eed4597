// One run through a middlebox: a page of the backend (reached through the proxy) runs the client on
// one transport (or the negotiator's choice), the server publishes `down` messages in bursts, the
// page publishes `up` messages, and the run reports what arrived, in what order, and when.
import { chromium, firefox, type Browser } from 'playwright';
import type { Backend } from './backend.ts';

export type Engine = 'chromium' | 'firefox';
export type TransportName = 'eventsource' | 'xhr-streaming' | 'multipart' | 'iframe' | 'long-polling' | 'jsonp';
export const TRANSPORTS: readonly TransportName[] = ['eventsource', 'xhr-streaming', 'multipart', 'iframe', 'long-polling', 'jsonp'];
export const ENGINES: readonly Engine[] = ['chromium', 'firefox'];

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

/**
 * The engine, optionally configured to use a forward proxy for everything, loopback included
 * (Chromium bypasses loopback unless told `<-loopback>`; Firefox unless allowed to hijack localhost).
 */
export function launch(engine: Engine, proxyPort?: number): Promise<Browser> {
  const proxy = proxyPort === undefined ? undefined : { server: `http://127.0.0.1:${proxyPort}`, bypass: '<-loopback>' };
  if (engine === 'chromium') {
    return chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS, proxy });
  }
  return firefox.launch({
    // playwright 1.64.1 over WebDriver BiDi (BROWSERS.md).
    channel: 'moz-firefox',
    executablePath: '/usr/lib/firefox-esr/firefox-esr',
    headless: true,
    proxy: proxy && { server: proxy.server },
    firefoxUserPrefs: {
      'network.http.http3.enable': false,
      'app.update.enabled': false,
      ...(proxy ? { 'network.proxy.allow_hijacking_localhost': true, 'network.proxy.no_proxies_on': '' } : {}),
    },
  });
}

export interface RunPlan {
  transport: TransportName | null;
  down: number;
  up: number;
  /** Messages per server burst, and the wait between bursts. */
  burst: number;
  burstGapMs: number;
  /** A silence in the middle of the run (0: none), longer than a proxy's idle timeout to let it cut. */
  pauseMs: number;
  /** How long everything may take to arrive once published. */
  settleMs: number;
  probeTimeoutMs?: number;
}

export const DEFAULT_PLAN: RunPlan = { transport: null, down: 600, up: 40, burst: 30, burstGapMs: 40, pauseMs: 0, settleMs: 60000 };

interface Snapshot {
  received: number[];
  arrivedAt: number[];
  errors: { at: number; type: string; code?: string; status?: number; transport?: string; message: string }[];
  gaps: unknown[];
  transports: { at: number; name: string; reason: string }[];
  states: { at: number; state: string; reason: string }[];
  acked: number;
  refused: string[];
  ready: boolean;
  startedAt: number;
  transport: string | null;
  state: string;
}

export interface RunResult extends Snapshot {
  upstream: number[];
  /** When each index was published (server clock = page clock: one machine). */
  publishedAt: Map<number, number>;
  /** Settled: everything arrived within settleMs. */
  complete: boolean;
  elapsedMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let runNumber = 0;

/** Runs `plan` in a fresh context of `browser` on the page at `origin` (reached through the proxy). */
export async function runOnce(browser: Browser, origin: string, backend: Backend, plan: RunPlan): Promise<RunResult> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const channel = `run-${process.pid}-${++runNumber}`;
  const upChannel = `${channel}-up`;
  const started = Date.now();
  const snapshot = () => page.evaluate(() => (window as unknown as { driver: { snapshot(): Snapshot } }).driver.snapshot());
  try {
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => 'driver' in window, null, { timeout: 15000 });
    await page.evaluate((options) => (window as unknown as { driver: { start(o: unknown): Promise<void> } }).driver.start(options),
      { transport: plan.transport, channel, upChannel, probeTimeoutMs: plan.probeTimeoutMs });
    const publishedAt = new Map<number, number>();
    let nextUp = 2;
    const bursts = Math.ceil(plan.down / plan.burst);
    const upPerBurst = Math.ceil((plan.up - 1) / bursts);
    for (let burst = 0; burst < bursts; burst += 1) {
      if (plan.pauseMs > 0 && burst === Math.floor(bursts / 2)) await sleep(plan.pauseMs);
      const from = burst * plan.burst + 1;
      for (let index = from; index < from + plan.burst && index <= plan.down; index += 1) {
        publishedAt.set(index, Date.now());
        backend.comet.publish(channel, { index });
      }
      const upTo = Math.min(plan.up, nextUp + upPerBurst - 1);
      if (nextUp <= upTo) {
        const [from2, to] = [nextUp, upTo];
        void page.evaluate(([a, b]) => (window as unknown as { driver: { publish(x: number, y: number): Promise<void> } }).driver.publish(a!, b!), [from2, to]).catch(() => undefined);
        nextUp = upTo + 1;
      }
      await sleep(plan.burstGapMs);
    }
    const deadline = Date.now() + plan.settleMs;
    let last = await snapshot();
    while ((last.received.length < plan.down || backend.upstream(upChannel).length < plan.up) && Date.now() < deadline) {
      await sleep(100);
      last = await snapshot();
    }
    const complete = last.received.length >= plan.down && backend.upstream(upChannel).length >= plan.up;
    if (complete) {
      await sleep(300); // anything delivered twice would show up now
      last = await snapshot();
    }
    return { ...last, upstream: [...backend.upstream(upChannel)], publishedAt, complete, elapsedMs: Date.now() - started };
  } finally {
    await page.evaluate(() => { (window as unknown as { driver?: { close(): void } }).driver?.close(); }).catch(() => undefined);
    await context.close();
  }
}

/** What is wrong with indexes that should be exactly 1..expected, in order: empty when right. */
export function sequenceProblems(indexes: readonly number[], expected: number): string[] {
  const problems: string[] = [];
  const seen = new Set<number>();
  indexes.forEach((index, position) => {
    if (seen.has(index)) problems.push(`${index} again at position ${position}`);
    else if (position > 0 && index < indexes[position - 1]!) problems.push(`${index} after ${indexes[position - 1]!}`);
    seen.add(index);
  });
  const missing = [];
  for (let index = 1; index <= expected; index += 1) if (!seen.has(index)) missing.push(index);
  if (missing.length > 0) problems.push(`${missing.length} missing (first ${missing.slice(0, 5).join(', ')})`);
  return problems.slice(0, 12);
}

/** A one-line account of a run, for the test log and failure messages. */
export function describeRun(label: string, plan: RunPlan, result: RunResult): string {
  const errors = new Map<string, number>();
  for (const { type, status, transport } of result.errors) {
    const key = `${type}${status ? ` ${status}` : ''}/${transport ?? 'upstream'}`;
    errors.set(key, (errors.get(key) ?? 0) + 1);
  }
  const steps = result.transports.map(({ name, reason }) => `${name}(${reason})`).join(' -> ');
  return `${label}: ${result.received.length}/${plan.down} down, ${result.upstream.length}/${plan.up} up, on ${result.transport ?? 'none'} ` +
    `[${steps}], state ${result.state}, errors ${[...errors].map(([key, count]) => `${key} ×${count}`).join(', ') || 'none'}, ${result.elapsedMs} ms`;
}
