// The small pieces several transports share: failures, callback names, query parameters, globals,
// content types, and the XHR plumbing under xhr-streaming and multipart. A transport that needs a
// platform object it does not have throws a TypeError on using it, which the connection reports as
// `unsupported`.
import type { Transport, TransportErrorType, TransportFailure, TransportName, TransportRequest } from './types.ts';
import type { Platform } from '../src/platform.ts';

export const fail = <Type extends string = TransportErrorType>(type: Type, detail: string, status?: number, retryMs?: number) =>
  ({ type, detail, status, retryMs });

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
  for (const [name, value] of Object.entries(params)) url += `${url.includes('?') ? '&' : '?'}${name}=${encodeURIComponent(value)}`;
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
 * Sends an asynchronous XHR GET; `onChange` hears every readyState change after `send`. Returns
 * the function that aborts it without a further call.
 */
export function openXhr(platform: Platform, { url, withCredentials, headers }: TransportRequest, onChange: (xhr: XMLHttpRequest) => void): () => void {
  const xhr = new (platform as Required<Platform>).XMLHttpRequest();
  xhr.open('GET', url);
  xhr.withCredentials = withCredentials;
  for (const name in headers) xhr.setRequestHeader(name, String(headers[name]));
  xhr.onreadystatechange = () => { onChange(xhr); };
  xhr.send();
  return () => {
    // Aborting fires readystatechange in some engines: unhook first.
    xhr.onreadystatechange = null;
    xhr.abort();
  };
}

/**
 * Decodes one streamed body. `read` gets the whole text received so far and appends to `values`
 * what it completed since the last call, throwing on bytes that do not decode (after appending
 * the values before them). `complete` tells whether the finished text stopped cleanly.
 */
export interface StreamDecoder {
  read(text: string, values: unknown[]): void;
  complete(text: string): boolean;
}

/**
 * A transport reading one long XHR response as it arrives (readyState 3). `decoderFor` gets the
 * response's Content-Type header and returns undefined when it is not the encoding's type.
 */
export function streamingXhr(
  name: TransportName,
  resource: string,
  decoderFor: (contentType: string) => StreamDecoder | undefined,
): Transport {
  return {
    name,
    resource,
    streaming: true,
    isSupported: (platform) => !!platform.XMLHttpRequest,
    open(platform, request, listener) {
      let decoder: StreamDecoder | undefined;
      let done = false;
      const stop = () => {
        done = true;
        abort();
      };
      const finish = (failure?: TransportFailure) => {
        if (done) return;
        stop();
        listener.onEnd(failure);
      };
      const abort = openXhr(platform, request, (xhr) => {
        const { readyState, status } = xhr;
        if (readyState < 2) return;
        // [XHR] A network error shows as readyState 4 with status 0.
        if (!status) {
          if (readyState > 3) finish(requestFailed());
          return;
        }
        if (status != 200) return finish(fail('http-status', unexpectedStatus, status));
        // Typically a proxy's or captive portal's HTML page when there is no decoder: do not download it.
        decoder ??= decoderFor(xhr.getResponseHeader('Content-Type') ?? '');
        if (!decoder) return finish(wrongType(status));
        if (readyState < 3) return;
        const text = xhr.responseText;
        const values: unknown[] = [];
        let decoded = true;
        try {
          decoder.read(text, values);
        } catch {
          decoded = false;
        }
        if (values.length) listener.onValues(values);
        if (!decoded) finish(malformed());
        else if (readyState > 3) finish(decoder.complete(text) ? undefined : malformed('truncated body'));
      });
      return { close: stop };
    },
  };
}
