// `npm run demo`: the WebIM and the compatibility page on 127.0.0.1 (PORT, default 8080), with a
// cross-origin endpoint on the next port (CROSS_PORT to change). Needs `npm run build` first.
import { startDemo } from './app.mjs';

const port = Number(process.env.PORT ?? 8080);
const crossPort = process.env.CROSS_PORT === undefined ? undefined : Number(process.env.CROSS_PORT);
for (const [name, value] of [['PORT', port], ['CROSS_PORT', crossPort ?? 0]]) {
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    process.stderr.write(`demo: ${name} must be an integer from 0 to 65535\n`);
    process.exit(2);
  }
}

let demo;
try {
  demo = await startDemo({ port, crossPort });
} catch (error) {
  process.stderr.write(`demo: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}

process.stdout.write(`cometkit demo: ${demo.url}  (WebIM)\n`);
process.stdout.write(`               ${demo.url}compat.html  (compatibility matrix)\n`);
process.stdout.write(`               cross-origin endpoint on port ${demo.crossPort}; Ctrl+C to stop\n`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await demo.close();
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
