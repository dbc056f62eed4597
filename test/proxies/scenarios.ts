// The middlebox scenarios, shared by the tests (test/proxies/*.test.ts) and the measurement command
// (test/proxies/measure.ts): each is a middlebox config, the server options behind it, and what a
// run does. The README's nginx and HAProxy configs are read from README.md itself, so the tests
// run exactly what the README says.
import { readFileSync } from 'node:fs';
import type { CometServerOptions } from '../../server/index.ts';
import { startBackend, type Backend } from './backend.ts';
import { haproxyConfig, nginxConfig, squidConfig, startMiddlebox, type Middlebox, type MiddleboxKind } from './middlebox.ts';
import type { RunPlan } from './runner.ts';

/** The fenced block of `language` in README's "Running behind nginx or another proxy". */
export function readmeBlock(language: 'nginx' | 'haproxy'): string {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.split(/^## /m).find((part) => part.startsWith('Running behind nginx or another proxy'));
  const block = section && new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``).exec(section)?.[1];
  if (!block) throw new Error(`README.md has no ${language} block under "Running behind nginx or another proxy"`);
  return block;
}

/** The README's upstream address, which a test points at its own backend. */
const README_UPSTREAM = '127.0.0.1:8080';

function pointAt(block: string, backendPort: number): string {
  if (!block.includes(README_UPSTREAM)) throw new Error(`the README block no longer names ${README_UPSTREAM}`);
  return block.replaceAll(README_UPSTREAM, `127.0.0.1:${backendPort}`);
}

function replaceDirective(block: string, name: string, value: string | undefined): string {
  const pattern = new RegExp(`^(\\s*)${name}\\s[^;]*;[^\\n]*$`, 'm');
  if (!pattern.test(block)) throw new Error(`the README block has no ${name} directive`);
  return block.replace(pattern, value === undefined ? '' : `$1${name} ${value};`);
}

export interface Scenario {
  readonly name: string;
  readonly kind: MiddleboxKind;
  /** The middlebox config for its directory, its port and the backend's port. */
  config(dir: string, port: number, backendPort: number): string;
  /** Server options behind it (beyond test/proxies/backend.ts's own). */
  readonly server: CometServerOptions;
  readonly plan: Partial<RunPlan>;
  /** A forward proxy: the browser is configured to use it, and loads the backend's own origin. */
  readonly forward?: boolean;
}

const nginx = (name: string, location: (block: string) => string, server: CometServerOptions = {}, plan: Partial<RunPlan> = {}): Scenario => ({
  name,
  kind: 'nginx',
  config: (dir, port, backendPort) => nginxConfig(dir, port,
    // The page comes from the backend too; only the README's /comet/ block is under test.
    `location / { proxy_pass http://127.0.0.1:${backendPort}; }\n${location(pointAt(readmeBlock('nginx'), backendPort))}`),
  server,
  plan,
});

/** The short timeouts of the cutting scenarios, and a server that outlasts them. */
const CUT_MS = 2000;
const SLOW_HEARTBEATS: CometServerOptions = { heartbeatMs: 5000, holdMs: 4000 };

export const SCENARIOS = {
  /** The README's block as written, in front of a server with default timings. */
  'nginx-readme': nginx('nginx with the README config', (block) => block),
  /** Idle streams and held polls cut by nginx: a read timeout shorter than heartbeatMs and holdMs. */
  'nginx-timeout': nginx('nginx with a 2 s read timeout', (block) => replaceDirective(replaceDirective(block, 'proxy_read_timeout', '2s'), 'proxy_send_timeout', '2s'),
    SLOW_HEARTBEATS, { pauseMs: 2.5 * CUT_MS }),
  /** gzip on for every type, compressing push responses too (the server does not). */
  'nginx-gzip': nginx('nginx with gzip on for every type', (block) => replaceDirective(block, 'gzip', 'on; gzip_types *; gzip_proxied any; gzip_min_length 1')),
  /** nginx buffering proxied responses (its default) over HTTP/1.1: the server's X-Accel-Buffering: no turns it off per response. */
  'nginx-accel': nginx('nginx with proxy_buffering on, honouring X-Accel-Buffering', (block) => replaceDirective(block, 'proxy_buffering', 'on')),
  /** nginx's default Host ($proxy_host): every page request with Origin looks foreign. */
  'nginx-host-rewritten': nginx('nginx rewriting Host (its default)', (block) => replaceDirective(block, 'proxy_set_header Host', undefined)),
  /** nginx's defaults for a proxied location: HTTP/1.0 upstream, buffering, X-Accel-Buffering ignored. */
  'nginx-buffering': nginx('nginx buffering (HTTP/1.0 upstream, X-Accel-Buffering ignored)', (block) =>
    replaceDirective(replaceDirective(block, 'proxy_http_version', '1.0; proxy_ignore_headers X-Accel-Buffering'), 'proxy_buffering', 'on')),
  /** A proxy that holds each response until it ends: nginx buffering with room for a whole stream. */
  'nginx-buffer-all': nginx('nginx holding each response until it ends', (block) =>
    replaceDirective(replaceDirective(block, 'proxy_http_version',
      '1.0; proxy_ignore_headers X-Accel-Buffering; proxy_buffer_size 256k; proxy_buffers 4 256k; proxy_busy_buffers_size 256k; proxy_max_temp_file_size 0'), 'proxy_buffering', 'on')),
  'haproxy-readme': {
    name: 'HAProxy (http mode) with the README config',
    kind: 'haproxy',
    config: (_dir, port, backendPort) => haproxyFrame(readmeBlock('haproxy'), port, backendPort),
    server: {},
    plan: {},
  },
  'haproxy-timeout': {
    name: 'HAProxy (http mode) with 2 s timeouts',
    kind: 'haproxy',
    config: (_dir, port, backendPort) => haproxyFrame(readmeBlock('haproxy').replace(/^(\s*timeout (?:client|server))\s+\S+/gm, `$1 ${CUT_MS}ms`), port, backendPort),
    server: SLOW_HEARTBEATS,
    plan: { pauseMs: 2.5 * CUT_MS },
  },
  /** The README's HAProxy block without `option http-no-delay`: for the measurement of what it saves. */
  'haproxy-delay': {
    name: 'HAProxy (http mode) without http-no-delay',
    kind: 'haproxy',
    config: (_dir, port, backendPort) => haproxyFrame(readmeBlock('haproxy').replace(/^\s*option http-no-delay.*$/m, ''), port, backendPort),
    server: {},
    plan: {},
  },
  squid: {
    name: 'Squid as a forward proxy',
    kind: 'squid',
    config: (dir, port) => squidConfig(dir, port),
    server: {},
    plan: {},
    forward: true,
  },
} satisfies Record<string, Scenario>;

export type ScenarioName = keyof typeof SCENARIOS;

/** The README's HAProxy block on our port and backend, with the application backend it refers to. */
function haproxyFrame(block: string, port: number, backendPort: number): string {
  const pointed = pointAt(block, backendPort).replace(/^(\s*bind\s+)\S+/m, `$1127.0.0.1:${port}`);
  if (!/^\s*bind\s+127\.0\.0\.1/m.test(pointed)) throw new Error('the README HAProxy block has no bind line');
  return haproxyConfig(`${pointed}
backend app
    server app1 127.0.0.1:${backendPort}
`);
}

export interface Started {
  readonly backend: Backend;
  readonly box: Middlebox;
  /** Where the page is loaded: through the proxy, or the backend's own origin behind a forward proxy. */
  readonly origin: string;
  stop(): Promise<void>;
}

/** Starts a scenario's backend and middlebox; `stop` ends both (call it in an `after`, failures included). */
export async function startScenario(scenario: Scenario): Promise<Started> {
  const backend = await startBackend(scenario.server);
  let box: Middlebox;
  try {
    box = await startMiddlebox(scenario.kind, (dir, port) => scenario.config(dir, port, backend.port));
  } catch (error) {
    await backend.stop();
    throw error;
  }
  return {
    backend,
    box,
    origin: `http://127.0.0.1:${scenario.forward ? backend.port : box.port}`,
    async stop() {
      await box.stop();
      await backend.stop();
    },
  };
}
