// The node:test shape of a middlebox scenario: the middlebox and its backend started once, then in
// Chromium and Firefox ESR each transport forced alone and the negotiator's own choice, every message
// asserted once and in order both ways. Engines are launched once per test file.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright';
import { DEFAULT_PLAN, ENGINES, TRANSPORTS, describeRun, launch, runOnce, sequenceProblems, type Engine, type TransportName } from './runner.ts';
import { SCENARIOS, startScenario, type Scenario, type ScenarioName, type Started } from './scenarios.ts';

/** One browser per engine (and per forward proxy) for the whole file, closed at its end. */
const browsers = new Map<string, Promise<Browser>>();
export function browserFor(engine: Engine, proxyPort?: number): Promise<Browser> {
  const key = `${engine}:${proxyPort ?? ''}`;
  let browser = browsers.get(key);
  if (browser === undefined) browsers.set(key, (browser = launch(engine, proxyPort)));
  return browser;
}
after(async () => {
  for (const browser of browsers.values()) await (await browser.catch(() => undefined))?.close();
});

export interface ScenarioChecks {
  /** Where the negotiator must end up when left to choose. */
  negotiated: TransportName;
  /** The transports to force (all six by default); the negotiator's choice always runs. */
  transports?: readonly TransportName[];
  /** Checks of the scenario itself (that the proxy really did what it is there to do). */
  extra?: (started: Started) => Promise<void>;
}

/** Registers the scenario's tests: (engines × (six forced transports + the negotiator's choice)). */
export function scenarioTests(name: ScenarioName, checks: ScenarioChecks): void {
  const scenario: Scenario = SCENARIOS[name];
  describe(scenario.name, () => {
    let started: Started | undefined;
    before(async () => { started = await startScenario(scenario); });
    after(async () => { await started?.stop(); });

    if (checks.extra) {
      const extra = checks.extra;
      test('the middlebox does what the scenario says', async () => { await extra(started!); });
    }

    for (const engine of ENGINES) {
      for (const transport of [...(checks.transports ?? TRANSPORTS), null]) {
        const label = `${engine}, ${transport ?? 'the negotiator\'s choice'}`;
        test(`${label}: ${DEFAULT_PLAN.down} messages down and ${DEFAULT_PLAN.up} up, each once and in order`, { timeout: 120_000 }, async () => {
          const plan = { ...DEFAULT_PLAN, ...scenario.plan, transport };
          const browser = await browserFor(engine, scenario.forward ? started!.box.port : undefined);
          const viaBefore = started!.backend.viaCount;
          const result = await runOnce(browser, started!.origin, started!.backend, plan);
          const account = describeRun(`[proxies] ${name} ${label}`, plan, result);
          console.log(account);
          const log = async () => `${account}\n${JSON.stringify(result.errors.slice(-5))}\n${await started!.box.log()}`;
          assert.deepEqual(sequenceProblems(result.received, plan.down), [], `downstream: ${await log()}`);
          assert.deepEqual(sequenceProblems(result.upstream, plan.up), [], `upstream: ${await log()}`);
          assert.deepEqual(result.refused, [], 'publishes refused');
          assert.deepEqual(result.gaps, [], 'gap events');
          assert.equal(result.transport, transport ?? checks.negotiated, `the transport in use at the end: ${account}`);
          // A forward proxy adds Via: the browser did use it, loopback and all.
          if (scenario.forward) assert.ok(started!.backend.viaCount > viaBefore, 'requests reached the server through the forward proxy');
        });
      }
    }
  });
}
