// Response bodies a test writes chunk by chunk, for msw handlers.
export interface PushedBody {
  readonly stream: ReadableStream<Uint8Array>;
  /** True once the reader went away (the client aborted the request). */
  readonly cancelled: boolean;
  /** Writes a chunk; does nothing once the reader went away, as a server's write to a closed socket. */
  push(text: string): void;
  /** Writes these bytes as one chunk: a chunk may end inside a character's UTF-8 bytes. */
  pushBytes(bytes: Uint8Array): void;
  end(): void;
  /** Fails the body mid-stream, as a connection reset does. */
  cut(): void;
}

export function pushedBody(): PushedBody {
  const encoder = new TextEncoder();
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  const pending: Uint8Array[] = [];
  let ended = false;
  const body = {
    cancelled: false,
    stream: new ReadableStream<Uint8Array>({
      start(c) {
        controller = c;
        for (const chunk of pending) c.enqueue(chunk);
        if (ended) c.close();
      },
      cancel() { body.cancelled = true; },
    }),
    push(text: string) {
      body.pushBytes(encoder.encode(text));
    },
    pushBytes(bytes: Uint8Array) {
      if (body.cancelled || ended) return;
      if (controller) controller.enqueue(bytes);
      else pending.push(bytes);
    },
    end() {
      if (body.cancelled || ended) return;
      ended = true;
      controller?.close();
    },
    cut() {
      if (body.cancelled || ended) return;
      ended = true;
      controller?.error(new TypeError('connection reset'));
    },
  };
  return body;
}
