// QtWebKit 5.212 (a 2016 WebKit: AppleWebKit/602.1, Safari 10's JavaScript and less), the engine
// of Debian's libqt5webkit5, driven by scripts/lib/qtwebkit-page.py through Debian's
// python3-pyqt5.qtwebkit. There is no driver protocol: a page puts what it found where an
// expression reads it (a global), then sets `window.status` to DONE_STATUS, upon which the driver
// prints the expression's value, renders the page (a screenshot, when asked) and exits. Used by `npm run compat`,
// `node scripts/qtwebkit-probe.mjs` and the QtWebKit tests (test/qtwebkit).
//
// Why not wkhtmltoimage (Debian's wkhtmltopdf, the same engine): it renders and exits as soon as
// a frame's load fails (every forever frame the tests cut does) and, with --javascript-delay 0,
// at the first load end, whatever `window.status` says; a run cannot outlive its page's frames.
// The Qt "offscreen" platform needs no X display, so there is no Xvfb to start or leave behind.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PYTHON = '/usr/bin/python3';
/** What python3-pyqt5.qtwebkit installs; ensure-browsers.sh checks for it too. */
export const QTWEBKIT_MODULE = '/usr/lib/python3/dist-packages/PyQt5/QtWebKitWidgets.abi3.so';
const DRIVER = new URL('qtwebkit-page.py', import.meta.url).pathname;
/** What a page sets `window.status` to once it reported: the engine then renders and exits. */
export const DONE_STATUS = 'cometkit-done';

/** The engines started here and still running: killed when Node exits, however it exits. */
const children = new Set();
const killChildren = () => { for (const child of children) child.kill('SIGKILL'); };
process.once('exit', killChildren);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    killChildren();
    process.kill(process.pid, signal);
  });
}

/** The QtWebKit version the Debian package brings, e.g. `5.212.0` (from `5.212.0~alpha4-30`). */
export function qtwebkitVersion() {
  try {
    const version = execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'libqt5webkit5'], { encoding: 'utf8' });
    return version.replace(/[~+-].*$/, '');
  } catch {
    return undefined;
  }
}

/** The environment without proxy variables (Qt would send loopback requests through them). */
function engineEnvironment(runtimeDir) {
  const env = { ...process.env, QT_QPA_PLATFORM: 'offscreen', XDG_RUNTIME_DIR: runtimeDir, COMETKIT_QTWEBKIT_STORAGE: join(runtimeDir, 'storage') };
  for (const name of Object.keys(env)) if (/_proxy$/i.test(name)) delete env[name];
  return env;
}

/**
 * Loads `url` in QtWebKit. Resolves once the page set DONE_STATUS and the screenshot is written
 * (`screenshot`: a PNG path), to { result, console }: `result` is the JSON the page's `result`
 * expression gave (default: `JSON.stringify(window.cometkitResult)`), parsed; `console`, the page's
 * console lines. Rejects when the engine exits otherwise, or at `timeoutMs` (the engine is then
 * killed). `init`: a script run in the page before its own (at each navigation). Each run has a fresh profile (local storage): nothing carries over between runs.
 */
export function runPage(url, { timeoutMs = 120000, screenshot, width = 1280, result = 'JSON.stringify(window.cometkitResult)', init } = {}) {
  if (!existsSync(QTWEBKIT_MODULE)) return Promise.reject(new Error(`${QTWEBKIT_MODULE} is missing (Debian package python3-pyqt5.qtwebkit)`));
  const runtimeDir = mkdtempSync(join(tmpdir(), 'cometkit-qtwebkit-'));
  const child = spawn(PYTHON, [DRIVER, url, screenshot ?? '', String(width), result, ...(init ? [init] : [])], { env: engineEnvironment(runtimeDir), stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let output = '';
  /** Set once the process exited and its output is all read. */
  let closed = false;
  child.once('close', () => { closed = true; });
  child.stdout.on('data', (bytes) => { output += bytes; });
  child.stderr.on('data', (bytes) => { output += bytes; });
  const consoleLines = () => output.split('\n').filter((line) => line.startsWith('console: ') || line.startsWith('alert: '));
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!closed) child.kill('SIGKILL');
      const done = () => {
        children.delete(child);
        rmSync(runtimeDir, { recursive: true, force: true });
        const printed = /^result: (.*)$/m.exec(output)?.[1];
        if (error) reject(error);
        else resolve({ result: printed && printed !== 'undefined' ? JSON.parse(printed) : undefined, console: consoleLines() });
      };
      if (closed) done();
      else child.once('close', done);
    };
    const timer = setTimeout(() => finish(new Error(`QtWebKit: ${url} did not finish within ${timeoutMs} ms\n${output}`)), timeoutMs);
    child.once('error', finish);
    child.once('close', (code, signal) => {
      if (code === 0) finish();
      else finish(new Error(`QtWebKit exited with ${code ?? signal} before the page was done:\n${output.trim()}`));
    });
  });
}
