// Where a request comes from (PROTOCOL.md section 10): the endpoint's public origin (the Host
// header, the `publicOrigin` option, or forwarding headers when trusted), the Origin check that
// decides CORS headers or 403, and the provenance that decides whether a request's credentials
// reach the application's hooks. A refusal that looks like a proxy rewriting Host is reported once.
import type { IncomingMessage } from 'node:http';

export interface OriginPolicy {
  /** Lower-cased listed origins, or `'*'`. */
  readonly allowedOrigins: ReadonlySet<string> | '*';
  /** Serialised origins pages reach the endpoint at (`publicOrigin`); undefined: judged per request. */
  readonly publicOrigins: ReadonlySet<string> | undefined;
  readonly trustForwarded: boolean;
}

/** How the server knows the page that made a request may use the endpoint with credentials. */
export type Proof = 'same-origin' | 'allowed-origin';

export type OriginVerdict =
  | { readonly allowed: true; readonly cors: Readonly<Record<string, string>> }
  | { readonly allowed: false };

/** Section 10's provenance of a request: the page it names, and whether that page is proven allowed. */
export interface Provenance {
  /** The page's origin: the Origin header, else the Referer's origin; undefined when neither says. */
  readonly pageOrigin: string | undefined;
  readonly proof: Proof | undefined;
}

export class OriginJudge {
  readonly #policy: OriginPolicy;
  readonly #report: (error: Error) => void;
  #reported = false;

  constructor(policy: OriginPolicy, report: (error: Error) => void) {
    this.#policy = policy;
    this.#report = report;
  }

  /**
   * No Origin header (script elements, documents, same-origin GETs, non-browser clients) or the
   * endpoint's own: no CORS headers needed. A listed origin gets credentials; `'*'` does not.
   */
  judge(req: IncomingMessage): OriginVerdict {
    const origin = req.headers.origin;
    if (origin === undefined || this.isOwn(origin, req)) return { allowed: true, cors: {} };
    const allowed = this.#policy.allowedOrigins;
    if (allowed === '*') return { allowed: true, cors: { 'Access-Control-Allow-Origin': '*' } };
    if (allowed.has(origin.toLowerCase())) {
      return { allowed: true, cors: { 'Access-Control-Allow-Origin': origin, 'Access-Control-Allow-Credentials': 'true' } };
    }
    this.#diagnose(origin, req);
    return { allowed: false };
  }

  /**
   * Proof comes from the Origin header when there is one; otherwise from `Sec-Fetch-Site:
   * same-origin` (the engine's own word), or from a Referer whose origin is the endpoint's own or
   * listed. A page cannot forge either header; one that hides its Referer proves nothing.
   */
  provenance(req: IncomingMessage): Provenance {
    const origin = req.headers.origin;
    if (origin !== undefined) return { pageOrigin: origin.toLowerCase(), proof: this.#proofOf(origin, req) };
    const pageOrigin = refererOrigin(req.headers.referer);
    if (header(req, 'sec-fetch-site') === 'same-origin') return { pageOrigin, proof: 'same-origin' };
    return { pageOrigin, proof: pageOrigin === undefined ? undefined : this.#proofOf(pageOrigin, req) };
  }

  /** Section 5.3, `iframe`: the postMessage target must be of origin form and allowed. */
  isAllowedPageOrigin(origin: string): boolean {
    const allowed = this.#policy.allowedOrigins;
    return allowed === '*' || allowed.has(origin.toLowerCase());
  }

  /** Whether `origin` (serialised, as a browser sends it) is the endpoint's public origin. */
  isOwn(origin: string, req: IncomingMessage): boolean {
    const url = parseOrigin(origin);
    if (url === undefined) return false; // `null` and other opaque origins are never the endpoint's own.
    const { publicOrigins, trustForwarded } = this.#policy;
    if (publicOrigins !== undefined) return publicOrigins.has(url.origin);
    const forwarded = trustForwarded ? forwardedHost(req) : undefined;
    if (forwarded?.proto !== undefined && `${forwarded.proto}:` !== url.protocol) return false;
    // Section 10: host and port compared, the scheme not (unless a trusted proxy named it).
    return sameHost(url, forwarded?.host ?? req.headers.host);
  }

  #proofOf(origin: string, req: IncomingMessage): Proof | undefined {
    if (this.isOwn(origin, req)) return 'same-origin';
    const allowed = this.#policy.allowedOrigins;
    return allowed !== '*' && allowed.has(origin.toLowerCase()) ? 'allowed-origin' : undefined;
  }

  /**
   * A refused Origin while Host names an internal address (an IP, `localhost`, a name without a
   * dot such as an upstream's) is most likely a proxy that rewrote Host, or a development page on
   * another port: said once, with the fix. Refusals at a public host name are foreign pages,
   * refused as they should be, and not reported.
   */
  #diagnose(origin: string, req: IncomingMessage): void {
    if (this.#reported || this.#policy.publicOrigins !== undefined) return;
    const host = req.headers.host ?? '';
    const hostname = /^\[[^\]]*\]|^[^:]*/.exec(host)?.[0] ?? '';
    if (!/^(\[.*\]|[0-9.]+|[^.]*)$/.test(hostname)) return;
    this.#reported = true;
    this.#report(new Error(
      `refused Origin ${JSON.stringify(origin)} with 403 forbidden-origin: the request came for Host ${JSON.stringify(host)}, ` +
      'so this endpoint took that for its origin. If a proxy forwards to this server, it rewrote Host (nginx does by default, ' +
      'with proxy_set_header Host $proxy_host): pass the browser\'s Host through (nginx: proxy_set_header Host $http_host;) ' +
      'or set the server option publicOrigin (CLI: --public-origin). If the page is on another origin, list it in allowedOrigins. ' +
      'Reported once.',
    ));
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value.trim().toLowerCase() : undefined;
}

function parseOrigin(origin: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return undefined;
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
}

/** The Referer's origin, lower-cased; undefined when absent or not an http(s) URL. */
function refererOrigin(referer: string | undefined): string | undefined {
  return referer === undefined ? undefined : parseOrigin(referer)?.origin;
}

/** Compares an origin's host and port with a Host header's, default ports filled in. */
function sameHost(url: URL, host: string | undefined): boolean {
  if (host === undefined) return false;
  const lower = host.trim().toLowerCase();
  const defaultPort = url.protocol === 'https:' ? ':443' : ':80';
  return url.host === (lower.endsWith(defaultPort) ? lower.slice(0, -defaultPort.length) : lower);
}

/**
 * The host and scheme the nearest proxy says the browser asked for: the last element of
 * `Forwarded` (RFC 7239), else the last values of `X-Forwarded-Host` and `X-Forwarded-Proto`.
 */
export function forwardedHost(req: IncomingMessage): { host: string | undefined; proto: string | undefined } | undefined {
  const forwarded = req.headers.forwarded;
  if (forwarded !== undefined) {
    const element = forwarded.split(',').at(-1) ?? '';
    const params = new Map<string, string>();
    for (const pair of element.split(';')) {
      const equals = pair.indexOf('=');
      if (equals > 0) params.set(pair.slice(0, equals).trim().toLowerCase(), pair.slice(equals + 1).trim().replace(/^"(.*)"$/, '$1'));
    }
    if (params.has('host') || params.has('proto')) return { host: params.get('host'), proto: params.get('proto')?.toLowerCase() };
  }
  const host = lastValue(req.headers['x-forwarded-host']);
  const proto = lastValue(req.headers['x-forwarded-proto'])?.toLowerCase();
  return host === undefined && proto === undefined ? undefined : { host, proto };
}

function lastValue(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value.join(',') : value;
  const last = text?.split(',').at(-1)?.trim();
  return last === '' ? undefined : last;
}

/**
 * Removes the credentials a browser attaches by itself (cookies, HTTP authentication) from a
 * request, so that no hook can act on them for a page that was not proven allowed.
 */
export function stripCredentials(req: IncomingMessage): void {
  const names = new Set(['cookie', 'authorization']);
  delete req.headers.cookie;
  delete req.headers.authorization;
  const raw = req.rawHeaders;
  for (let index = raw.length - 2; index >= 0; index -= 2) {
    if (names.has((raw[index] ?? '').toLowerCase())) raw.splice(index, 2);
  }
}
