// The small pieces several transports share: failures, callback names, query parameters, globals,
// content types, and the XHR plumbing under xhr-streaming and multipart. A transport that needs a
// platform object it does not have throws a TypeError on using it, which the connection reports as
// `unsupported`.
import { fail, type Transport, type TransportFailure, type TransportName } from './contract.ts';
import type { Platform } from '../src/platform.ts';
import { lineReader, type LineDecoder } from './framing/lines.ts';

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

/**
 * A transport reading one long XHR response as it arrives (readyState 3), line by line: both
 * streamed encodings put their values on lines. `decoderFor` gets the response's Content-Type
 * header and returns undefined when it is not the encoding's type.
 */
export const streamingXhr = (name: TransportName, resource: string, decoderFor: (contentType: string) => LineDecoder | undefined): Transport => ({
  name,
  resource,
  streaming: true,
  isSupported: (platform) => !!platform.XMLHttpRequest,
  open(platform, { url, withCredentials, headers }, listener) {
    const xhr = new (platform as Required<Platform>).XMLHttpRequest();
    const lines = lineReader();
    let decode: LineDecoder | undefined;
    const close = () => {
      // Aborting fires readystatechange in some engines: unhook first. Unhooked, nothing more is heard.
      xhr.onreadystatechange = null;
      xhr.abort();
    };
    const finish = (failure?: TransportFailure) => {
      // A listener may have closed the exchange on the values it just received.
      if (xhr.onreadystatechange) {
        close();
        listener.onEnd(failure);
      }
    };
    xhr.open('GET', url);
    xhr.withCredentials = withCredentials;
    for (const header in headers) xhr.setRequestHeader(header, headers[header] ?? '');
    xhr.onreadystatechange = () => {
      const { readyState, status } = xhr;
      // [XHR] Status is 0 until the headers arrive (readyState 2); a network error shows as
      // readyState 4 with status 0.
      if (!status) return readyState > 3 && finish(requestFailed());
      if (status != 200) return finish(fail('http-status', unexpectedStatus, status));
      // Typically a proxy's or captive portal's HTML page when there is no decoder: do not download it.
      decode ??= decoderFor(xhr.getResponseHeader('Content-Type') ?? '');
      if (!decode) return finish(wrongType(status));
      // At readyState 2 the text is empty: nothing to read yet.
      const text = xhr.responseText;
      const values: unknown[] = [];
      let failure: TransportFailure | undefined;
      try {
        for (const line of lines.read(text)) values.push(...decode(line));
        if (readyState > 3) decode(lines.rest(text), true);
      } catch {
        failure = malformed();
      }
      if (values.length) listener.onValues(values);
      if (failure || readyState > 3) finish(failure);
    };
    xhr.send();
    return { close };
  },
});
