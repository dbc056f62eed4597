// Wire parsers for the six downstream encodings of PROTOCOL.md §5.3. They do no I/O: each takes
// the body text as it arrives, chunk by chunk, and reports frames, grouped in the batches the
// encoding makes visible. Violations of the documented framing are collected in `violations`
// rather than thrown, so a test can assert there were none and print them if there were.
import vm from 'node:vm';

export interface Frame { type: string; [member: string]: unknown }

export type Transport = 'sse' | 'xhr' | 'multipart' | 'iframe' | 'poll' | 'jsonp';
export const streamingTransports = ['sse', 'xhr', 'multipart', 'iframe'] as const;
export const pollingTransports = ['poll', 'jsonp'] as const;
export const allTransports: readonly Transport[] = [...streamingTransports, ...pollingTransports];

/** Called once per batch the encoding delimits; `chunkIndex` is the data event that completed it. */
export type FrameSink = (frames: Frame[], chunkIndex: number) => void;

export interface EncodingParser {
  push(text: string, chunkIndex: number): void;
  /** The response ended; polling encodings parse their whole body here. */
  end(chunkIndex: number): void;
  readonly violations: string[];
}

/** JSON.stringify returns undefined for some values, whatever its declared type says. */
function preview(value: unknown): string {
  const text = JSON.stringify(value) as string | undefined;
  return (text ?? 'undefined').slice(0, 200);
}

function asFrame(value: unknown, where: string, violations: string[]): Frame | undefined {
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as { type?: unknown }).type === 'string') {
    return value as Frame;
  }
  violations.push(`${where}: not a frame: ${preview(value)}`);
  return undefined;
}

function asFrames(value: unknown, where: string, violations: string[]): Frame[] {
  if (!Array.isArray(value)) {
    violations.push(`${where}: not an array of frames: ${preview(value)}`);
    return [];
  }
  return value.flatMap((item) => asFrame(item, where, violations) ?? []);
}

function parseJson(text: string, where: string, violations: string[]): unknown {
  try {
    return JSON.parse(text);
  } catch {
    violations.push(`${where}: invalid JSON: ${text.slice(0, 200)}`);
    return undefined;
  }
}

/** One item of an SSE stream, in order of arrival. */
export type SseItem =
  | { kind: 'retry'; value: string }
  | { kind: 'comment'; text: string }
  | { kind: 'event'; id: string | undefined; event: string | undefined; data: string };

// [html] 9.2.6 Interpreting an event stream: lines end in CRLF, LF or CR; a blank line dispatches.
export class SseParser implements EncodingParser {
  readonly violations: string[] = [];
  readonly items: SseItem[] = [];
  #buffer = '';
  #data: string[] = [];
  #id: string | undefined;
  #event: string | undefined;
  #sawField = false;
  constructor(private readonly sink: FrameSink) {}

  push(text: string, chunkIndex: number): void {
    this.#buffer += text;
    const frames: Frame[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.#buffer);
      if (match === null) break;
      // A CR at the very end may be the first half of a CRLF split across chunks.
      if (match[0] === '\r' && match.index === this.#buffer.length - 1) break;
      const line = this.#buffer.slice(0, match.index);
      this.#buffer = this.#buffer.slice(match.index + match[0].length);
      this.#line(line, frames);
    }
    if (frames.length > 0) this.sink(frames, chunkIndex);
  }

  #line(line: string, frames: Frame[]): void {
    if (line === '') {
      if (this.#data.length > 0) {
        const data = this.#data.join('\n');
        this.items.push({ kind: 'event', id: this.#id, event: this.#event, data });
        const frame = asFrame(parseJson(data, 'sse data', this.violations), 'sse data', this.violations);
        if (frame !== undefined) frames.push(frame);
      } else if (this.#sawField && this.#id === undefined) {
        // a block holding only `retry:` is fine; anything else without data is noise
      }
      this.#data = [];
      this.#id = undefined;
      this.#event = undefined;
      this.#sawField = false;
      return;
    }
    if (line.startsWith(':')) {
      this.items.push({ kind: 'comment', text: line.slice(1).trim() });
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    this.#sawField = true;
    if (field === 'data') this.#data.push(value);
    else if (field === 'id') this.#id = value;
    else if (field === 'event') this.#event = value;
    else if (field === 'retry') this.items.push({ kind: 'retry', value });
    else this.violations.push(`sse: unknown field ${JSON.stringify(field)}`);
  }

  end(): void {
    if (this.#buffer.trim() !== '' || this.#data.length > 0) this.violations.push('sse: stream ended inside an event');
  }
}

export const ndjsonPrelude = ' '.repeat(2047) + '\n';

export class NdjsonParser implements EncodingParser {
  readonly violations: string[] = [];
  prelude = '';
  #buffer = '';
  constructor(private readonly sink: FrameSink) {}

  push(text: string, chunkIndex: number): void {
    this.#buffer += text;
    if (this.prelude.length < ndjsonPrelude.length) {
      const take = Math.min(ndjsonPrelude.length - this.prelude.length, this.#buffer.length);
      this.prelude += this.#buffer.slice(0, take);
      this.#buffer = this.#buffer.slice(take);
      if (this.prelude.length === ndjsonPrelude.length && this.prelude !== ndjsonPrelude) {
        this.violations.push('xhr: the first 2048 bytes are not 2047 spaces and a LF');
      }
    }
    const frames: Frame[] = [];
    let newline = this.#buffer.indexOf('\n');
    while (newline !== -1) {
      const line = this.#buffer.slice(0, newline);
      this.#buffer = this.#buffer.slice(newline + 1);
      if (line.includes('\r')) this.violations.push('xhr: CR inside a line');
      if (line.trim() !== '') {
        const frame = asFrame(parseJson(line, 'xhr line', this.violations), 'xhr line', this.violations);
        if (frame !== undefined) frames.push(frame);
      }
      newline = this.#buffer.indexOf('\n');
    }
    if (frames.length > 0) this.sink(frames, chunkIndex);
  }

  end(): void {
    if (this.prelude.length < ndjsonPrelude.length) this.violations.push('xhr: response ended inside the prelude');
    if (this.#buffer.trim() !== '') this.violations.push('xhr: last line not ended by LF');
  }
}

export class MultipartParser implements EncodingParser {
  readonly violations: string[] = [];
  readonly partHeaders: string[] = [];
  closed = false;
  #buffer = '';
  #started = false;
  constructor(
    private readonly boundary: string,
    private readonly sink: FrameSink,
  ) {}

  push(text: string, chunkIndex: number): void {
    this.#buffer += text;
    const delimiter = `--${this.boundary}`;
    if (!this.#started) {
      const at = this.#buffer.indexOf(delimiter);
      if (at === -1) return;
      if (this.#buffer.slice(0, at).trim() !== '') this.violations.push('multipart: bytes before the first boundary');
      this.#buffer = this.#buffer.slice(at);
      this.#started = true;
    }
    for (;;) {
      if (this.closed) {
        if (this.#buffer !== '') this.violations.push('multipart: bytes after the closing boundary');
        this.#buffer = '';
        return;
      }
      if (this.#buffer.length < delimiter.length + 4) return;
      if (!this.#buffer.startsWith(delimiter)) {
        this.violations.push(`multipart: expected a boundary, got ${JSON.stringify(this.#buffer.slice(0, 80))}`);
        this.#buffer = '';
        return;
      }
      const after = this.#buffer.slice(delimiter.length);
      if (after.startsWith('--')) {
        if (!after.startsWith('--\r\n')) return;
        this.closed = true;
        this.#buffer = after.slice(4);
        continue;
      }
      if (!after.startsWith('\r\n')) {
        this.violations.push('multipart: boundary not followed by CRLF');
        this.#buffer = '';
        return;
      }
      const headersEnd = after.indexOf('\r\n\r\n', 2);
      if (headersEnd === -1) return;
      const bodyEnd = after.indexOf('\r\n', headersEnd + 4);
      if (bodyEnd === -1) return;
      const headers = after.slice(2, headersEnd);
      const body = after.slice(headersEnd + 4, bodyEnd);
      this.#buffer = after.slice(bodyEnd + 2);
      this.partHeaders.push(headers);
      if (!/^content-type:\s*application\/json\b/im.test(headers)) this.violations.push(`multipart: part headers ${JSON.stringify(headers)}`);
      if (body.includes('\n') || body.includes('\r')) this.violations.push('multipart: CR or LF inside a part body');
      this.sink(asFrames(parseJson(body, 'multipart part', this.violations), 'multipart part', this.violations), chunkIndex);
    }
  }

  end(): void {
    if (!this.closed) this.violations.push('multipart: response ended without the closing boundary');
  }
}

/** What a script-carried body handed to the page: a direct call or a postMessage. */
export type ScriptDelivery =
  | { kind: 'call'; name: string; value: unknown }
  | { kind: 'postMessage'; value: unknown; targetOrigin: unknown };

/**
 * Runs script-carried responses (§3.5) the way a browser would, in a sandbox whose `parent`
 * records what the document delivers: `parent.NAME(frames)` or `parent.postMessage(value, origin)`.
 */
export class ScriptSandbox {
  readonly deliveries: ScriptDelivery[] = [];
  readonly context: vm.Context;
  constructor(callbackName: string) {
    const deliveries = this.deliveries;
    const parent = {
      postMessage(value: unknown, targetOrigin: unknown): void {
        deliveries.push({ kind: 'postMessage', value: structuredClone(value), targetOrigin });
      },
      [callbackName](value: unknown): void {
        deliveries.push({ kind: 'call', name: callbackName, value: structuredClone(value) });
      },
    };
    const globals: Record<string, unknown> = { parent, top: parent, document: { domain: '127.0.0.1' } };
    // JSONP runs in the page itself: its callback is a global function.
    globals[callbackName] = (value: unknown): void => {
      deliveries.push({ kind: 'call', name: callbackName, value: structuredClone(value) });
    };
    this.context = vm.createContext(globals);
    vm.runInContext('var window = this, self = this;', this.context);
  }

  run(source: string): void {
    vm.runInContext(source, this.context, { timeout: 1000 });
  }
}

export interface IframeOptions {
  callback: string;
  /** The `origin` parameter when one was sent: deliveries must then be postMessage to it. */
  origin?: string;
}

export class IframeParser implements EncodingParser {
  readonly violations: string[] = [];
  readonly sandbox: ScriptSandbox;
  /** Bytes between the end of the head script and the start of the first batch script. */
  preludeBytes: number | undefined;
  headScript: string | undefined;
  readonly batchScripts: string[] = [];
  #text = '';
  #cursor = 0;
  #headEnd = 0;
  constructor(
    private readonly options: IframeOptions,
    private readonly sink: FrameSink,
  ) {
    this.sandbox = new ScriptSandbox(options.callback);
  }

  push(text: string, chunkIndex: number): void {
    this.#text += text;
    const scripts = /<script\b[^>]*>([\s\S]*?)<\/script>/gi;
    scripts.lastIndex = this.#cursor;
    for (let match = scripts.exec(this.#text); match !== null; match = scripts.exec(this.#text)) {
      this.#cursor = scripts.lastIndex;
      const source = match[1] ?? '';
      if (this.headScript === undefined) {
        this.headScript = source;
        this.#headEnd = scripts.lastIndex;
        if (!/^<!DOCTYPE html>/i.test(this.#text)) this.violations.push('iframe: document does not start with <!DOCTYPE html>');
        this.#execute(source, 'head script');
        continue;
      }
      this.preludeBytes ??= Buffer.byteLength(this.#text.slice(this.#headEnd, match.index));
      this.batchScripts.push(source);
      if (source.includes('<')) this.violations.push('iframe: a batch script contains a raw "<"');
      const before = this.sandbox.deliveries.length;
      this.#execute(source, 'batch script');
      const delivered = this.sandbox.deliveries.slice(before);
      if (delivered.length !== 1) this.violations.push(`iframe: a batch script made ${delivered.length} deliveries`);
      for (const delivery of delivered) this.sink(this.#framesOf(delivery), chunkIndex);
    }
  }

  #framesOf(delivery: ScriptDelivery): Frame[] {
    const { callback, origin } = this.options;
    if (origin === undefined) {
      if (delivery.kind !== 'call' || delivery.name !== callback) this.violations.push(`iframe: expected parent.${callback}(frames), got ${delivery.kind}`);
      return asFrames(delivery.value, 'iframe call', this.violations);
    }
    if (delivery.kind !== 'postMessage') {
      this.violations.push('iframe: with origin, expected postMessage');
      return asFrames(delivery.value, 'iframe call', this.violations);
    }
    if (delivery.targetOrigin !== origin) this.violations.push(`iframe: postMessage target ${String(delivery.targetOrigin)}, expected ${origin}`);
    const value = delivery.value as { cometkit?: unknown; frames?: unknown } | null;
    if (value === null || typeof value !== 'object' || value.cometkit !== callback) this.violations.push('iframe: message lacks {"cometkit": NAME}');
    return asFrames(value?.frames, 'iframe postMessage', this.violations);
  }

  #execute(source: string, where: string): void {
    try {
      this.sandbox.run(source);
    } catch (error) {
      this.violations.push(`iframe: ${where} threw ${String(error)}`);
    }
  }

  end(): void {
    if (this.#text.slice(this.#cursor).includes('<script')) this.violations.push('iframe: document ended inside a script');
  }
}

export class PollParser implements EncodingParser {
  readonly violations: string[] = [];
  text = '';
  constructor(private readonly sink: FrameSink) {}
  push(text: string): void {
    this.text += text;
  }
  end(chunkIndex: number): void {
    this.sink(asFrames(parseJson(this.text, 'poll body', this.violations), 'poll body', this.violations), chunkIndex);
  }
}

/** Runs a JSONP body: it must be `/**\/NAME(value);` and call NAME exactly once. */
export function runJsonp(body: string, callback: string): { value: unknown; violations: string[] } {
  const violations: string[] = [];
  if (!body.startsWith('/**/')) violations.push('jsonp: body does not start with /**/');
  const sandbox = new ScriptSandbox(callback);
  try {
    sandbox.run(body);
  } catch (error) {
    violations.push(`jsonp: body threw ${String(error)}`);
  }
  const calls = sandbox.deliveries.filter((d) => d.kind === 'call' && d.name === callback);
  if (calls.length !== 1 || sandbox.deliveries.length !== 1) violations.push(`jsonp: expected one call of ${callback}, got ${sandbox.deliveries.length} deliveries`);
  return { value: calls[0]?.value, violations };
}

export class JsonpParser implements EncodingParser {
  readonly violations: string[] = [];
  text = '';
  constructor(
    private readonly callback: string,
    private readonly sink: FrameSink,
  ) {}
  push(text: string): void {
    this.text += text;
  }
  end(chunkIndex: number): void {
    const { value, violations } = runJsonp(this.text, this.callback);
    this.violations.push(...violations);
    this.sink(asFrames(value, 'jsonp body', this.violations), chunkIndex);
  }
}

/** `"cometkit-4f1c9a0b33d2e8a1"` from a multipart Content-Type, or undefined. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  return match?.[1] ?? match?.[2];
}

/** True when `text` holds a character a script body must carry escaped (§3.5). */
export function hasUnescapedScriptHazard(text: string): boolean {
  return /<\/script|<!--|\u2028|\u2029/i.test(text);
}
