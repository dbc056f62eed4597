// Real middleboxes from Debian (nginx, HAProxy, Squid), each started by a test on a free loopback port
// with its own config, temporary directory and pid file, in the foreground as a child of the test,
// and stopped by its own pid (its process group with it), on failure too. Never a system service.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type MiddleboxKind = 'nginx' | 'haproxy' | 'squid';

export interface Middlebox {
  readonly kind: MiddleboxKind;
  /** The loopback port it listens on. */
  readonly port: number;
  readonly pid: number;
  readonly dir: string;
  /** Its own log (error log, cache log or stderr), for a failure's message. */
  log(): Promise<string>;
  stop(): Promise<void>;
}

const BINARIES: Readonly<Record<MiddleboxKind, string>> = {
  nginx: '/usr/sbin/nginx',
  haproxy: '/usr/sbin/haproxy',
  squid: '/usr/sbin/squid',
};

/** Every middlebox still running: killed when the test process exits, whatever happened. */
const running = new Set<Middlebox>();
process.once('exit', () => {
  for (const box of running) {
    killGroup(box.pid, 'SIGKILL');
    rmSync(box.dir, { recursive: true, force: true });
  }
});

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => { resolve(typeof address === 'object' && address !== null ? address.port : 0); });
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => { resolve(false); });
  });
}

interface Launch {
  args(dir: string, configPath: string): string[];
  /** Where it logs, relative to its directory. */
  logFile: string;
}

const LAUNCH: Readonly<Record<MiddleboxKind, Launch>> = {
  nginx: {
    args: (dir, configPath) => ['-p', dir, '-c', configPath, '-e', join(dir, 'error.log')],
    logFile: 'error.log',
  },
  haproxy: {
    // -db: foreground; -p: its pid file.
    args: (dir, configPath) => ['-db', '-f', configPath, '-p', join(dir, 'haproxy.pid')],
    logFile: 'stderr.log',
  },
  squid: {
    // -N: no daemon; -d 1: errors to stderr too.
    args: (_dir, configPath) => ['-N', '-d', '1', '-f', configPath],
    logFile: 'cache.log',
  },
};

/**
 * Starts `kind` with the config `render(dir, port)` returns (dir: its own temporary directory, for
 * pid file, logs and temp files). Resolves once it accepts connections on its port.
 */
export async function startMiddlebox(kind: MiddleboxKind, render: (dir: string, port: number) => string): Promise<Middlebox> {
  const dir = await mkdtemp(join(tmpdir(), `cometkit-${kind}-`));
  // nginx workers and Squid drop root for an unprivileged user, which must reach this directory.
  await chmod(dir, 0o777);
  await mkdir(join(dir, 'tmp'), { mode: 0o777 });
  const port = await freePort();
  const configPath = join(dir, `${kind}.conf`);
  await writeFile(configPath, render(dir, port));
  const launch = LAUNCH[kind];
  const child = spawn(BINARIES[kind], launch.args(dir, configPath), { cwd: dir, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const exited = once(child, 'exit');
  const pid = child.pid ?? 0;
  const box: Middlebox = {
    kind,
    port,
    pid,
    dir,
    async log() {
      const file = await readFile(join(dir, launch.logFile), 'utf8').catch(() => '');
      return `${file}${stderr}`.slice(-4000);
    },
    async stop() {
      if (!running.delete(box)) return;
      if (child.exitCode === null && child.signalCode === null) {
        killGroup(pid, 'SIGTERM');
        const timer = setTimeout(() => { killGroup(pid, 'SIGKILL'); }, 5000);
        await exited;
        clearTimeout(timer);
      }
      // Workers of nginx outlive a master killed hard: end the whole group.
      killGroup(pid, 'SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
  running.add(box);
  const deadline = Date.now() + 15000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      const log = await box.log();
      await box.stop();
      throw new Error(`${kind} did not start on 127.0.0.1:${port}:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return box;
}

/** The common frame of an nginx config: its paths all in its own directory; `server` is the server block's body. */
export function nginxConfig(dir: string, port: number, server: string, http = ''): string {
  return `daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  ${http}
  server {
    listen 127.0.0.1:${port};
    ${server}
  }
}
`;
}

/** HAProxy's frame: `sections` holds defaults, frontend and backends; the global section is ours. */
export function haproxyConfig(sections: string): string {
  return `global
  maxconn 512
${sections}
`;
}

/** Squid as a forward proxy on loopback, caching nothing, its files in its own directory. */
export function squidConfig(dir: string, port: number): string {
  return `http_port 127.0.0.1:${port}
pid_filename ${dir}/squid.pid
cache_log ${dir}/cache.log
access_log stdio:${dir}/access.log
cache_store_log none
cache deny all
cache_mem 8 MB
coredump_dir ${dir}
netdb_filename none
pinger_enable off
shutdown_lifetime 0 seconds
visible_hostname cometkit-test
http_access allow all
`;
}
