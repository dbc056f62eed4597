// Downstream frames and the six encodings of PROTOCOL.md section 5.3, byte for byte. Pure string
// building: a response is `head`, then one `batch` per write, then `tail`. Polling encodings
// carry exactly one batch.
import { randomBytes } from 'node:crypto';
import type { TransportName } from './options.ts';

/** A serialised frame. `eventId` is the seq of a `msg` frame (the SSE `id:` line). */
export interface OutFrame {
  readonly json: string;
  readonly eventId?: number;
}

export type CloseCode = 'recycle' | 'replaced' | 'unknown-session' | 'overflow' | 'shutdown';
export type Reconnect = 'now' | 'backoff' | 'handshake' | 'none';

export const HEARTBEAT_FRAME: OutFrame = { json: '{"type":"hb"}' };

export function openFrame(seq: number, heartbeatMs: number): OutFrame {
  return { json: `{"type":"open","seq":${seq},"heartbeatMs":${heartbeatMs}}` };
}

/** An echo of a client's token through its stream (section 7.1): the token is of the echo form, so it needs no escaping. */
export function echoFrame(token: string): OutFrame {
  return { json: `{"type":"echo","echo":"${token}"}` };
}

export function gapFrame(from: number, to: number): OutFrame {
  return { json: `{"type":"gap","from":${from},"to":${to}}` };
}

/** Section 8.1: each close code has one reconnect instruction; only `shutdown` carries `retryMs`. */
export function closeFrame(code: CloseCode, retryMs?: number): OutFrame {
  const reconnect: Reconnect = CLOSE_RECONNECT[code];
  const retry = retryMs === undefined ? '' : `,"retryMs":${retryMs}`;
  return { json: `{"type":"close","code":"${code}","reconnect":"${reconnect}"${retry}}` };
}

const CLOSE_RECONNECT: Readonly<Record<CloseCode, Reconnect>> = {
  recycle: 'now',
  replaced: 'none',
  'unknown-session': 'handshake',
  overflow: 'now',
  shutdown: 'backoff',
};

const SCRIPT_UNSAFE = /[<>&\u2028\u2029]/g;
const SCRIPT_ESCAPES: Readonly<Record<string, string>> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/**
 * Section 3.5: JSON placed inside script can never close a `<script>` element or break a line in
 * pre-ES2019 engines. Valid on serialised JSON only: these characters can occur there solely
 * inside strings, where the escapes mean the same characters.
 */
export function escapeForScript(json: string): string {
  return json.replace(SCRIPT_UNSAFE, (char) => SCRIPT_ESCAPES[char] ?? char);
}

/** Section 3.5: a JSONP body, `/**\/NAME(json);`. The callback must already be validated. */
export function jsonpBody(callback: string, json: string): string {
  return `/**/${callback}(${escapeForScript(json)});`;
}

export interface Encoder {
  /** Streaming encodings carry many batches; polling ones exactly one. */
  readonly streaming: boolean;
  /** Headers beyond the common ones of section 3.2. */
  readonly headers: Readonly<Record<string, string>>;
  readonly head: string;
  batch(frames: readonly OutFrame[]): string;
  readonly tail: string;
}

export interface EncoderParams {
  readonly retryMs: number;
  /** Validated callback name (`iframe`, `jsonp`). */
  readonly callback?: string;
  /** Validated, allowed page origin for a cross-origin `iframe`. */
  readonly origin?: string;
}

/** Section 5.3, `xhr`: 2047 spaces and a LF make engines hand bytes to script at once. */
export const XHR_PRELUDE = ' '.repeat(2047) + '\n';
/** Section 5.3, `iframe`: WebKit holds back roughly the first 512 bytes of a document. */
const IFRAME_PADDING = ' '.repeat(2048);

export function createEncoder(transport: TransportName, params: EncoderParams): Encoder {
  switch (transport) {
    case 'sse': return sseEncoder(params.retryMs);
    case 'xhr': return xhrEncoder;
    case 'multipart': return multipartEncoder(`cometkit-${randomBytes(8).toString('hex')}`);
    case 'iframe': return iframeEncoder(requireCallback(params), params.origin);
    case 'poll': return pollEncoder;
    case 'jsonp': return jsonpEncoder(requireCallback(params));
  }
}

function requireCallback(params: EncoderParams): string {
  if (params.callback === undefined) throw new TypeError('cometkit: this encoding needs a callback');
  return params.callback;
}

function jsonArray(frames: readonly OutFrame[]): string {
  let text = '';
  for (const frame of frames) text += text === '' ? frame.json : `,${frame.json}`;
  return `[${text}]`;
}

function sseEncoder(retryMs: number): Encoder {
  return {
    streaming: true,
    headers: { 'Content-Type': 'text/event-stream; charset=utf-8' },
    head: `retry: ${retryMs}\n\n`,
    batch(frames) {
      let text = '';
      for (const frame of frames) {
        // The comment is for intermediaries that watch for SSE comments; the frame is for script.
        if (frame === HEARTBEAT_FRAME) text += ': hb\n';
        if (frame.eventId !== undefined) text += `id: ${frame.eventId}\n`;
        text += `data: ${frame.json}\n\n`;
      }
      return text;
    },
    tail: '',
  };
}

const xhrEncoder: Encoder = {
  streaming: true,
  headers: { 'Content-Type': 'application/x-ndjson; charset=utf-8' },
  head: XHR_PRELUDE,
  batch(frames) {
    let text = '';
    for (const frame of frames) text += frame.json + '\n';
    return text;
  },
  tail: '',
};

function multipartEncoder(boundary: string): Encoder {
  return {
    streaming: true,
    headers: { 'Content-Type': `multipart/x-mixed-replace; boundary="${boundary}"` },
    head: '',
    // Section 3.3 keeps CR and LF out of the part body, so `CRLF--boundary` cannot occur in data.
    batch: (frames) => `--${boundary}\r\nContent-Type: application/json\r\n\r\n${jsonArray(frames)}\r\n`,
    tail: `--${boundary}--\r\n`,
  };
}

function iframeEncoder(callback: string, origin: string | undefined): Encoder {
  // The target origin is always explicit, never '*' (section 5.3): without `origin` the page shares
  // the endpoint's origin and is called directly.
  const deliver = origin === undefined
    ? `parent.${callback}(f)`
    : `parent.postMessage({"cometkit":${JSON.stringify(callback)},"frames":f},${JSON.stringify(origin)})`;
  return {
    streaming: true,
    headers: { 'Content-Type': 'text/html; charset=utf-8' },
    head:
      '<!DOCTYPE html><html><head><meta charset="utf-8"><script>\n' +
      `var d=function(f){${deliver}};\n` +
      `</script></head><body><!--${IFRAME_PADDING}-->\n`,
    batch: (frames) => `<script>d(${escapeForScript(jsonArray(frames))})</script>\n`,
    tail: '</body></html>',
  };
}

const pollEncoder: Encoder = {
  streaming: false,
  headers: { 'Content-Type': 'application/json; charset=utf-8' },
  head: '',
  batch: jsonArray,
  tail: '',
};

function jsonpEncoder(callback: string): Encoder {
  return {
    streaming: false,
    headers: { 'Content-Type': 'application/javascript; charset=utf-8' },
    head: `/**/${callback}(`,
    batch: (frames) => escapeForScript(jsonArray(frames)),
    tail: ');',
  };
}
