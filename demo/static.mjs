// Serves the demo pages (demo/public) and the built client (dist/) as static files: GET and HEAD
// only, a fixed list of file types, no directory listings and nothing outside the two folders.
import { createReadStream, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/** Maps a URL path to a file under one of `mounts` ({ prefix, dir }); undefined when none fits. */
function locate(mounts, pathname) {
  let decoded;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  for (const { prefix, dir } of mounts) {
    if (!decoded.startsWith(prefix)) continue;
    let relative = decoded.slice(prefix.length);
    if (relative === '' || relative.endsWith('/')) relative += 'index.html';
    const root = resolve(dir);
    const file = resolve(join(root, relative));
    if (!file.startsWith(root + sep)) return undefined;
    return file;
  }
  return undefined;
}

/**
 * Answers a static request; false when the path is not a file we serve (the caller answers 404).
 * `headers` are added to every answer (the pages' Content-Security-Policy).
 */
export function serveStatic(mounts, req, res, pathname, headers = {}) {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const file = locate(mounts, pathname);
  const type = file && TYPES[extname(file)];
  if (!type) return false;
  let size;
  try {
    const stats = statSync(file);
    if (!stats.isFile()) return false;
    size = stats.size;
  } catch {
    return false;
  }
  res.writeHead(200, {
    ...headers,
    'Content-Type': type,
    'Content-Length': size,
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
  });
  if (req.method === 'HEAD') res.end();
  else createReadStream(file).pipe(res);
  return true;
}
