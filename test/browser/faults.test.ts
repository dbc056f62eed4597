// The public client through a fault proxy (test/support/fault-proxy.mjs), for each transport in each
// engine: connections cut at random moments lose and repeat nothing, a stalled connection is found
// within two heartbeat intervals and delivery resumes once the network is back, and a buffering
// proxy sends the negotiator to a polling transport with nothing lost on the way.
// Each test has a proxy of its own: the runner drives two engines at once.
import { expect } from 'chai';
import { CometClient, type CometClientOptions, type CometError, type GapEvent, type TransportName } from '../../src/index.ts';
import { FaultProxy, inspectProxied, isWebKit, publishProxied, sequenceProblems, sleep, waitFor } from './support.ts';

const engine = navigator.userAgent.includes('Firefox') ? 'firefox' : isWebKit ? 'webkit' : 'chromium';
const ALL: TransportName[] = ['eventsource', 'xhr-streaming', 'multipart', 'iframe', 'long-polling', 'jsonp'];
const POLLING: TransportName[] = ['long-polling', 'jsonp'];

/** The proxied server's heartbeatMs and holdMs (test/support/fault-fixture.mjs). */
const HEARTBEAT_MS = 1000;
const HOLD_MS = 1000;

/** Quick reconnects keep the runs short; the server's retryMs (50 ms) is the floor anyway. */
const FAST: CometClientOptions = {
  probeTimeoutMs: 4000,
  reconnect: { initialDelayMs: 20, maxDelayMs: 250 },
  // An upstream send stuck on a stalled connection is given up and retried after this long.
  sendTimeoutMs: 3000,
  reprobeMs: 600000,
};

interface Mocha { timeout(ms: number): void }

/** Everything a client reports, stamped with the wall-clock time. */
function watch(client: CometClient) {
  const started = Date.now();
  const trace = {
    started,
    errors: [] as { at: number; error: CometError }[],
    states: [] as { at: number; state: string; reason: string }[],
    transports: [] as { at: number; name: TransportName; reason: string }[],
    gaps: [] as GapEvent[],
  };
  client.on('error', (error) => { trace.errors.push({ at: Date.now(), error }); });
  client.on('statechange', ({ state, reason }) => { trace.states.push({ at: Date.now(), state, reason }); });
  client.on('transport', ({ name, reason }) => { trace.transports.push({ at: Date.now(), name, reason }); });
  client.on('gap', (gap) => { trace.gaps.push(gap); });
  return trace;
}

/** A client of the proxied server that records payload indexes per channel, and what it reported. */
function startClient(endpoint: string, options: CometClientOptions, channels: string[]) {
  const log: string[] = [];
  const client = new CometClient(endpoint, {
    ...options,
    logger: (message, detail) => { log.push(`${Date.now() % 100000} ${message} ${detail === undefined ? '' : JSON.stringify(detail)}`); },
  });
  const trace = watch(client);
  const received = new Map<string, number[]>();
  for (const channel of channels) {
    const indexes: number[] = [];
    received.set(channel, indexes);
    client.subscribe(channel, (data) => { indexes.push((data as { index: number }).index); });
  }
  return { client, trace, log, received: (channel: string) => received.get(channel)! };
}

/** Runs `body`; when it fails, prints the client's log tail so a red run can be diagnosed. */
async function diagnosed<T>(label: string, log: string[], body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    console.log(`[faults] ${engine} ${label} failed; client log tail:\n${log.slice(-40).join('\n')}`);
    throw error;
  }
}

/** Waits for `count` indexes on a channel; on timeout, says what is wrong with what did arrive. */
async function collect(indexes: number[], count: number, what: string, timeoutMs: number): Promise<void> {
  try {
    await waitFor(() => indexes.length >= count, `${count} ${what}`, timeoutMs);
  } catch {
    throw new Error(`${what}: ${indexes.length} of ${count} arrived; ${sequenceProblems(indexes, count).join('; ')}`);
  }
}

/** Error counts by type and transport, e.g. `network/eventsource ×9, network/upstream ×2`. */
function errorSummary(errors: { error: CometError }[]): string {
  const counts = new Map<string, number>();
  for (const { error } of errors) {
    const key = `${error.type}/${error.transport ?? 'upstream'}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, count]) => `${key} ×${count}`).join(', ') || 'none';
}

/** The server's peak of concurrent requests for the session subscribed to `channel` (reported, not asserted here). */
async function inFlightPeak(channel: string): Promise<number | undefined> {
  const { perSession } = await inspectProxied();
  return perSession.find((session) => session.subscriptions.includes(channel))?.maxInFlight;
}

const uniqueChannel = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 10)}`;

/** The negotiator remembers per origin what worked; every test starts from a clean slate. */
function forgetTransports() {
  for (const key of Object.keys(localStorage)) if (key.startsWith('cometkit:')) localStorage.removeItem(key);
}

describe(`CometClient through a fault proxy (${engine})`, () => {
  beforeEach(forgetTransports);
  afterEach(forgetTransports);

  const transports = ALL.filter((name) => !(isWebKit && name === 'multipart'));

  // WebKit cannot read a multipart body at all (docs/ENGINES.md): client.test.ts checks that forcing
  // it there ends in a typed error; there is no fault run to make.

  describe('chaos: every connection cut at a random moment', () => {
    const BURSTS = 20;
    const BURST = 100;
    const UPSTREAM = 200;

    for (const [position, name] of transports.entries()) {
      it(`${name}: 2,000 downstream and 200 upstream messages arrive exactly once, in order`, async function (this: Mocha) {
        // In Chromium and Firefox a cut forever frame fires no load event: each cut costs the
        // heartbeat tolerance (2 s here) before the watchdog notices, so the iframe run is long.
        this.timeout(name === 'iframe' ? 240000 : 120000);
        // Cuts in time and inside answers: on loopback an answer takes a millisecond, and browsers
        // quietly resend a request whose reused connection dies before any answer byte. A byte cut
        // is mostly larger than a burst, because the server sends its whole backlog as one batch
        // (a poll answer, a multipart part, an iframe script) which a smaller cut would cut every time.
        const proxy = await FaultProxy.create({ seed: 1000 + position, cutMs: [30, 300], cutBytes: [2000, 48000] });
        await proxy.setMode('chaos');
        const down = uniqueChannel(`chaos-${name}`);
        const up = `${down}-up`;
        const run = startClient(proxy.endpoint, { ...FAST, transports: [name] }, [down, up]);
        try {
          await diagnosed(`${name} chaos`, run.log, async () => {
            // The first upstream publish is acknowledged after our subscriptions were applied (in order).
            await run.client.publish(up, { index: 1 });
            const acknowledged: Promise<void>[] = [];
            let nextUp = 2;
            for (let burst = 0; burst < BURSTS; burst += 1) {
              await publishProxied(down, burst * BURST + 1, BURST, 64);
              for (let each = 0; each < UPSTREAM / BURSTS && nextUp <= UPSTREAM; each += 1) {
                acknowledged.push(run.client.publish(up, { index: nextUp++ }));
              }
              // Bursts a little apart, so that cuts land before, between and inside them; and the
              // backlog kept to about a burst (see cutBytes).
              await waitFor(() => run.received(down).length >= burst * BURST, 'the client to keep up', 30000);
              await sleep(100);
            }
            await collect(run.received(down), BURSTS * BURST, 'downstream messages', 60000);
            await collect(run.received(up), UPSTREAM, 'upstream messages', 30000);
            await Promise.all(acknowledged);
            await sleep(200); // anything delivered twice would show up now
          });
          const stats = await proxy.stats();
          const reconnects = run.trace.states.filter(({ state }) => state === 'reconnecting').length;
          console.log(`[faults] ${engine} ${name} chaos: ${run.received(down).length} down, ${run.received(up).length} up, ` +
            `${stats.cuts} cuts of ${stats.connections} connections, errors ${errorSummary(run.trace.errors)}, ${reconnects} reconnects, ` +
            `${Date.now() - run.trace.started} ms, peak in flight ${await inFlightPeak(down)}`);
          expect(sequenceProblems(run.received(down), BURSTS * BURST), 'downstream').to.deep.equal([]);
          expect(sequenceProblems(run.received(up), UPSTREAM), 'upstream').to.deep.equal([]);
          expect(run.trace.gaps, 'gap events').to.deep.equal([]);
          // A green run proves the faults happened, and that the client lived through some.
          expect(stats.cuts).to.be.greaterThan(0);
          expect(run.trace.errors.length, 'errors the client reported').to.be.greaterThan(0);
        } finally {
          run.client.close();
          await proxy.close();
        }
      });
    }
  });

  describe('stall: the connection stays open and goes silent', () => {
    // §7: a stream is dead after about two heartbeat intervals of silence; a poll after holdMs more.
    // Bounded loosely (timing goals belong to benchmarks): 4 heartbeats and some slack.
    const DETECTION_BOUND_MS = Math.max(4 * HEARTBEAT_MS, HOLD_MS + 2 * HEARTBEAT_MS) + 2000;

    for (const name of transports) {
      it(`${name}: a stall is detected within two heartbeat intervals, and nothing is lost`, async function (this: Mocha) {
        this.timeout(60000);
        const proxy = await FaultProxy.create();
        const channel = uniqueChannel(`stall-${name}`);
        const run = startClient(proxy.endpoint, { ...FAST, transports: [name] }, [channel, `${channel}-ready`]);
        const indexes = run.received(channel);
        try {
          let detectedMs = 0;
          await diagnosed(`${name} stall`, run.log, async () => {
            await run.client.publish(`${channel}-ready`, { index: 0 });
            await publishProxied(channel, 1, 50);
            await collect(indexes, 50, 'messages before the stall', 15000);
            await waitFor(() => run.client.state === 'open', 'the client to be open');

            const stalledAt = Date.now();
            await proxy.setMode('stall');
            const stalled = await proxy.stallOpen();
            expect(stalled.stalls, 'connections stalled').to.be.greaterThan(0);
            await publishProxied(channel, 51, 50);
            const timedOut = () => run.trace.errors.find(({ at, error }) => at >= stalledAt && error.type === 'timeout');
            await waitFor(() => timedOut() !== undefined, 'a timeout error after the stall', 20000);
            detectedMs = timedOut()!.at - stalledAt;
            await waitFor(() => run.trace.states.some(({ at, state }) => at >= stalledAt && state === 'reconnecting'), 'the client to reconnect');

            // The network is back: the stalled flows are reset and new connections pass.
            await proxy.setMode('pass');
            await proxy.cutAll();
            await publishProxied(channel, 101, 50);
            await collect(indexes, 150, 'messages across the stall', 20000);
            await sleep(200);
          });
          console.log(`[faults] ${engine} ${name} stall: detected after ${detectedMs} ms; ${indexes.length} messages, peak in flight ${await inFlightPeak(channel)}`);
          expect(detectedMs, 'stall detection, ms').to.be.at.most(DETECTION_BOUND_MS);
          expect(sequenceProblems(indexes, 150)).to.deep.equal([]);
          expect(run.trace.gaps, 'gap events').to.deep.equal([]);
        } finally {
          run.client.close();
          await proxy.close();
        }
      });
    }
  });

  describe('buffer: a proxy that holds each response until it ends', () => {
    const PROBE_TIMEOUT_MS = 1500;
    const BATCH = 30;

    it('the negotiator falls back to a polling transport within probeTimeoutMs per step, losing nothing', async function (this: Mocha) {
      this.timeout(90000);
      const proxy = await FaultProxy.create();
      await proxy.setMode('buffer');
      const channel = uniqueChannel('buffer');
      // The default preference: all six, in the default order.
      const run = startClient(proxy.endpoint, { ...FAST, transports: undefined, probeTimeoutMs: PROBE_TIMEOUT_MS }, [channel, `${channel}-ready`]);
      const indexes = run.received(channel);
      const publishedOn: (TransportName | null)[] = [];
      const batch = async (number: number) => {
        publishedOn.push(run.client.transport);
        await publishProxied(channel, number * BATCH + 1, BATCH);
      };
      try {
        await diagnosed('buffer fallback', run.log, async () => {
          await run.client.publish(`${channel}-ready`, { index: 0 });
          await batch(0); // before: the first candidate's probe is still waiting for a frame
          await waitFor(() => run.trace.transports.length >= 2, 'a first fallback', 3 * PROBE_TIMEOUT_MS + 5000);
          await batch(1); // during the fallback
          await waitFor(() => POLLING.includes(run.client.transport!) && run.client.state === 'open', 'a polling transport', ALL.length * (PROBE_TIMEOUT_MS + 1500) + 5000);
          await collect(indexes, 2 * BATCH, 'messages before and during the fallback', 15000);
          await batch(2); // after
          await collect(indexes, 3 * BATCH, 'messages before, during and after the fallback', 15000);
          await sleep(300);
        });
        const { transports } = run.trace;
        const steps = transports.map(({ at, name, reason }, step) => `${name} (${reason}, +${at - (transports[step - 1]?.at ?? run.trace.started)} ms)`);
        console.log(`[faults] ${engine} buffer: ${steps.join(' -> ')}; published on ${publishedOn.join(', ')}; ${indexes.length} messages, peak in flight ${await inFlightPeak(channel)}`);
        expect(transports[0]?.name).to.equal('eventsource');
        expect(POLLING).to.include(transports.at(-1)?.name);
        expect(transports.slice(1).map(({ reason }) => reason)).to.deep.equal(transports.slice(1).map(() => 'fallback'));
        for (let step = 1; step < transports.length; step += 1) {
          expect(transports[step]!.at - transports[step - 1]!.at, `step to ${transports[step]!.name}, ms`).to.be.at.most(PROBE_TIMEOUT_MS + 2000);
        }
        expect(publishedOn[0], 'the first batch went out before any fallback').to.equal('eventsource');
        expect(sequenceProblems(indexes, 3 * BATCH)).to.deep.equal([]);
        expect(run.trace.gaps, 'gap events').to.deep.equal([]);
      } finally {
        run.client.close();
        await proxy.close();
      }
    });
  });
});
