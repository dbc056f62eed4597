// Downstream requests read incrementally: each encoding's parser (framing.ts) sees the body as it
// arrives, so tests can wait for a frame, a batch or the end with event-driven, bounded waits.
import http from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import {
  IframeParser,
  JsonpParser,
  MultipartParser,
  NdjsonParser,
  PollParser,
  SseParser,
  multipartBoundary,
  type EncodingParser,
  type Frame,
  type Transport,
} from './framing.ts';
import { endpointPath, query, type TestServer } from './support.ts';

export async function withTimeout<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${label}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A downstream request read incrementally. */
export class Downstream {
  readonly frames: Frame[] = [];
  /** Frames in the batches the encoding delimits, with the data event that completed each. */
  readonly batches: { frames: Frame[]; chunkIndex: number }[] = [];
  readonly chunks: Buffer[] = [];
  status = 0;
  headers: http.IncomingHttpHeaders = {};
  parser: EncodingParser | undefined;
  /** Set when the response ended or its connection closed. */
  finished = false;
  readonly #req: http.ClientRequest;
  #res: http.IncomingMessage | undefined;
  readonly #waiters = new Set<() => void>();
  readonly response: Promise<void>;
  readonly ended: Promise<void>;

  constructor(
    readonly transport: Transport,
    server: TestServer,
    readonly path: string,
    private readonly options: { callback: string; origin?: string; headers?: Record<string, string> },
  ) {
    this.#req = http.request({ host: '127.0.0.1', port: server.port, path, headers: options.headers ?? {}, agent: server.agent });
    this.#req.on('error', () => this.#finish());
    this.response = new Promise((resolve, reject) => {
      this.#req.once('response', (res) => {
        this.#res = res;
        this.status = res.statusCode ?? 0;
        this.headers = res.headers;
        if (this.status === 200) this.parser = this.#parserFor(res.headers['content-type']);
        const decoder = new StringDecoder('utf8');
        res.on('data', (chunk: Buffer) => {
          const index = this.chunks.push(chunk) - 1;
          this.parser?.push(decoder.write(chunk), index);
          this.#notify();
        });
        res.once('end', () => {
          this.parser?.push(decoder.end(), this.chunks.length - 1);
          this.parser?.end(this.chunks.length - 1);
          this.#finish();
        });
        res.once('close', () => this.#finish());
        resolve();
      });
      this.#req.once('error', reject);
      this.#req.once('close', () => reject(new Error(`${path}: closed before a response`)));
    });
    this.response.catch(() => undefined);
    this.ended = new Promise((resolve) => {
      this.#waiters.add(() => {
        if (this.finished) resolve();
      });
    });
    this.#req.end();
  }

  #parserFor(contentType: string | undefined): EncodingParser {
    const sink = (frames: Frame[], chunkIndex: number): void => {
      this.frames.push(...frames);
      this.batches.push({ frames, chunkIndex });
    };
    switch (this.transport) {
      case 'sse':
        return new SseParser(sink);
      case 'xhr':
        return new NdjsonParser(sink);
      case 'multipart':
        return new MultipartParser(multipartBoundary(contentType) ?? 'missing-boundary', sink);
      case 'iframe':
        return new IframeParser(this.options, sink);
      case 'poll':
        return new PollParser(sink);
      case 'jsonp':
        return new JsonpParser(this.options.callback, sink);
    }
  }

  #finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.#notify();
  }

  #notify(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  /** `finished` read through a call, where the compiler would narrow the field across an await. */
  isFinished(): boolean {
    return this.finished;
  }

  get text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }

  get byteLength(): number {
    return this.chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  }

  get violations(): string[] {
    return this.parser?.violations ?? [];
  }

  get messages(): Frame[] {
    return this.frames.filter((frame) => frame.type === 'msg');
  }

  get lastFrame(): Frame | undefined {
    return this.frames[this.frames.length - 1];
  }

  /** Resolves once `condition` holds, re-checked on every chunk; rejects after `ms`. */
  async until(condition: (stream: this) => boolean, label: string, ms = 10_000): Promise<void> {
    if (condition(this)) return;
    await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (condition(this)) done(resolve);
        else if (this.finished) done(() => reject(new Error(`${this.path} ended before ${label}; frames: ${JSON.stringify(this.frames).slice(0, 2000)}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`timed out after ${ms} ms waiting for ${label} on ${this.path}; frames: ${JSON.stringify(this.frames).slice(0, 2000)}`))), ms);
      const done = (settle: () => void): void => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        settle();
      };
      this.#waiters.add(check);
      check();
    });
  }

  /** Resolves with the first frame (from index `from`) matching `predicate`. */
  async frame(predicate: (frame: Frame) => boolean, label: string, from = 0, ms = 10_000): Promise<Frame> {
    let found: Frame | undefined;
    await this.until(() => (found = this.frames.slice(from).find(predicate)) !== undefined, label, ms);
    return found!;
  }

  async messageCount(count: number, ms = 10_000): Promise<void> {
    await this.until(() => this.messages.length >= count, `${count} msg frames`, ms);
  }

  async end(ms = 10_000): Promise<void> {
    await withTimeout(this.ended, ms, `the end of ${this.path}; frames so far: ${JSON.stringify(this.frames).slice(0, 2000)}`);
  }

  abort(): void {
    this.#req.destroy();
  }

  /** Stops reading: the socket fills up and the server sees a consumer that does not drain. */
  pause(): void {
    this.#res?.pause();
  }

  resume(): void {
    this.#res?.resume();
  }
}

export interface OpenOptions {
  since?: number | undefined;
  callback?: string;
  origin?: string;
  headers?: Record<string, string>;
  /** Extra raw query text appended as is (for example `&t=1`). */
  extraQuery?: string;
}

export function downstreamPath(transport: Transport, session: string, options: OpenOptions = {}): string {
  const { since = 0, callback = 'cb', origin } = options;
  const needsCallback = transport === 'iframe' || transport === 'jsonp';
  return `${endpointPath}/${transport}${query({ session, since, callback: needsCallback ? callback : undefined, origin })}${options.extraQuery ?? ''}`;
}

/** Opens a downstream request; for streaming transports, waits for its response headers. */
export async function openDownstream(server: TestServer, transport: Transport, session: string, options: OpenOptions = {}): Promise<Downstream> {
  const stream = new Downstream(transport, server, downstreamPath(transport, session, options), {
    callback: options.callback ?? 'cb',
    ...(options.origin === undefined ? {} : { origin: options.origin }),
    ...(options.headers === undefined ? {} : { headers: options.headers }),
  });
  // A held poll sends its headers only with its answer: callers of polling transports await end().
  if (transport !== 'poll' && transport !== 'jsonp') await withTimeout(stream.response, 10_000, `the response headers of ${stream.path}`);
  return stream;
}

