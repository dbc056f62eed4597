// Turns the compatibility page's results, one set per engine, into COMPATIBILITY.md and the table
// the README shows. Pure: no I/O, so a unit test can hold it to its format.

export const TRANSPORT_ORDER = ['eventsource', 'xhr-streaming', 'multipart', 'iframe', 'long-polling', 'jsonp'];
export const README_START = '<!-- compat:start (written by npm run compat) -->';
export const README_END = '<!-- compat:end -->';

const LABELS = { chromium: 'Chromium', firefox: 'Firefox ESR', webkit: 'WebKitGTK', qtwebkit: 'QtWebKit' };

/** `Chromium 156`, from the engine name and its full version. */
export function engineLabel(name, version) {
  const major = name === 'webkit' || name === 'qtwebkit' ? /^\d+\.\d+/.exec(version ?? '')?.[0] : /^\d+/.exec(version ?? '')?.[0];
  return major ? `${LABELS[name] ?? name} ${major}` : (LABELS[name] ?? name);
}

function cell(result) {
  if (!result) return 'not run';
  if (!result.works) return `**fails**${result.error ? ` (${result.error.replace(/\|/g, '/')})` : ''}`;
  const streams = result.streams === null ? '' : result.streams ? ' · streams' : ` · ${result.newRequests} new requests`;
  return `works · ${result.firstFrameMs} ms · ${result.latencyMs} ms${streams}`;
}

/**
 * The table: one row per transport and origin, one column per engine (runs: [{ name, version,
 * results, error }]), and a column for the engine that cannot run here.
 */
export function compatTable(runs) {
  const header = ['transport', 'origin', ...runs.map((run) => engineLabel(run.name, run.version)), 'Internet Explorer (htmlfile)'];
  const lines = [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`];
  for (const transport of TRANSPORT_ORDER) {
    for (const origin of ['same', 'cross']) {
      const cells = runs.map((run) => (run.error
        ? `**not run** (${run.error.replace(/\|/g, '/')})`
        : cell(run.results.find((result) => result.transport === transport && result.origin === origin))));
      lines.push(`| \`${transport}\` | ${origin} | ${cells.join(' | ')} | untested |`);
    }
  }
  return lines.join('\n');
}

export const LEGEND = 'Each cell: works or fails · first frame (client created → `open`: a stream\'s first frame, or a ' +
  'polling transport\'s handshake) · median round trip of 5 publishes (publish → the message back) · ' +
  '"streams" when 4 messages sent 150 ms apart all arrived in the response already open, or how many new requests ' +
  'they took (a polling transport needs one after each answer). ' +
  'Loopback (127.0.0.1), so the times show each engine\'s own overhead, not a network\'s.';

/** Which build each engine's page ran (the page says: the ESM build, or the legacy UMD bundle where modules are missing). */
function bundles(runs) {
  const lines = runs.filter((run) => run.bundle).map((run) => `- ${engineLabel(run.name, run.version)}: \`${run.bundle}\``);
  return lines.length ? ['The build each engine\'s page ran (`nomodule` loads the legacy bundle where modules are missing):', '', ...lines, ''] : [];
}

export function compatibilityMarkdown(runs, { date, machine, screenshots }) {
  return [
    '# Compatibility',
    '',
    `Measured by \`npm run compat\` on ${date} (${machine}): the demo's compatibility page`,
    '(`demo/public/compat.html`) run headless in each engine against the demo server. Every figure',
    'below comes from that command; run it again to refresh this file and the README\'s copy.',
    '',
    compatTable(runs),
    '',
    LEGEND,
    '',
    ...bundles(runs),
    '## Not run here',
    '',
    '- **Internet Explorer** (the `iframe` transport\'s htmlfile path, used where `ActiveXObject` exists):',
    '  no such engine runs on this machine. The legacy bundle is ES5 syntax, but IE 11 also lacks',
    '  library objects the client uses (`Promise`, `Symbol`, `Array.from`, `Object.assign`...): see the',
    '  README\'s "Browser support". The htmlfile path is covered only by a jsdom test with a stand-in `ActiveXObject`.',
    '- **Safari** on macOS and iOS: WebKitGTK shares the engine, not Apple\'s network stack.',
    '- **Mobile browsers**, and anything behind a real proxy (see the README on proxies).',
    '',
    '## Screenshots',
    '',
    ...screenshots.map(({ label, path }) => `- ${label}: [${path}](${path})`),
    '',
  ].join('\n');
}

/** The README with its compatibility section replaced (between the markers). */
export function withReadmeTable(readme, runs, date) {
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  if (start < 0 || end < start) throw new Error('README.md lacks the compat markers');
  const body = [README_START, `Measured by \`npm run compat\` on ${date}; details in [COMPATIBILITY.md](COMPATIBILITY.md).`, '', compatTable(runs), '', LEGEND, README_END];
  return readme.slice(0, start) + body.join('\n') + readme.slice(end + README_END.length);
}
