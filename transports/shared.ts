// The small pieces several transports share: failures, callback names, query parameters, globals,
// content types. A transport that needs a platform object it does not have throws a TypeError on
// using it, which the connection reports as `unsupported`.
import { fail } from './contract.ts';
import type { Platform } from '../src/platform.ts';

export const requestFailed = () => fail('network', 'failed');
export const malformed = (detail = 'undecodable') => fail('malformed', detail);
export const unexpectedStatus = 'unexpected status';
export const wrongType = (status: number) => fail('content-type', 'unexpected type', status);

let callbackCount = 0;

/** A global name no other exchange uses; it matches the protocol's `^[A-Za-z_$][\w$]{0,63}$`. */
export const callbackName = (platform: Platform) =>
  // The random part keeps two copies of the client on one page apart.
  `cometkit${++callbackCount}_${platform.Math.random().toString(36).slice(2, 10)}`;

/** `url` with the parameters added to its query, percent-encoded. */
export function withParams(url: string, params: Readonly<Record<string, string | number>>): string {
  // for-in, not Object.entries: the legacy bundle runs in engines older than ES2017.
  for (const name in params) url += `${url.includes('?') ? '&' : '?'}${name}=${encodeURIComponent(params[name] ?? '')}`;
  return url;
}

/** Installs `value` as a global of `scope`, or removes the global when `value` is absent. */
export function setGlobal(scope: object, name: string, value?: unknown): void {
  const globals = scope as Record<string, unknown>;
  // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- the name is ours, made by callbackName
  if (value === undefined) delete globals[name];
  else globals[name] = value;
}
