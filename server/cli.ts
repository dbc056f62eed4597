// `cometkit-server`: the reference server on its own, broadcasting client publishes to each
// channel's subscribers. Built to dist/cli.mjs (the `#!/usr/bin/env node` banner is rollup's).
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { createCometServer } from './index.ts';

const USAGE = `Usage: cometkit-server [options]

Serves the cometkit protocol; client publishes are broadcast to the channel's subscribers.

Options:
  --port <n>                  TCP port (default 8080; 0 picks a free one)
  --host <address>            interface to listen on (default 127.0.0.1, loopback only)
  --path <prefix>             endpoint path (default /comet)
  --allowed-origins <a,b|*>   page origins allowed cross-origin, comma-separated, or *
  --public-origin <a,b>       the origin(s) pages reach this endpoint at, behind a proxy
                              that does not pass the browser's Host header through
  --trust-forwarded           take the public host and scheme from Forwarded, or
                              X-Forwarded-Host and X-Forwarded-Proto (set by your proxy)
  --help                      show this text
`;

function fail(message: string): never {
  process.stderr.write(`cometkit-server: ${message}\n\n${USAGE}`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      port: { type: 'string', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      path: { type: 'string', default: '/comet' },
      'allowed-origins': { type: 'string' },
      'public-origin': { type: 'string' },
      'trust-forwarded': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}

if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const port = Number(values.port);
if (!/^[0-9]{1,5}$/.test(values.port) || port > 65535) fail('--port must be an integer from 0 to 65535');

const originsText = values['allowed-origins'];
const allowedOrigins = originsText === undefined ? [] : originsText.trim() === '*' ? '*' as const
  : originsText.split(',').map((origin) => origin.trim()).filter((origin) => origin !== '');

let comet;
try {
  comet = createCometServer({
    path: values.path,
    allowedOrigins,
    publicOrigin: values['public-origin']?.split(',').map((origin) => origin.trim()).filter((origin) => origin !== ''),
    trustForwarded: values['trust-forwarded'],
  });
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
const cometServer = comet;
const httpServer = createServer(cometServer.handler);

httpServer.on('error', (error) => {
  process.stderr.write(`cometkit-server: ${error.message}\n`);
  process.exit(1);
});

httpServer.listen(port, values.host, () => {
  const address = httpServer.address();
  const actualPort = typeof address === 'object' && address !== null ? address.port : port;
  const host = values.host.includes(':') ? `[${values.host}]` : values.host;
  process.stdout.write(`cometkit-server listening on http://${host}:${actualPort}${values.path.replace(/\/+$/, '')}\n`);
});

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`cometkit-server: ${signal}, closing\n`);
  // Stop accepting, end every stream with `close` `shutdown`, then drop idle keep-alive sockets.
  httpServer.close();
  await cometServer.close();
  httpServer.closeAllConnections();
}

process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
