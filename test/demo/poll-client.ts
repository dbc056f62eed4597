// A bare protocol client for the demo tests: handshake, sends and long polls over fetch, exactly
// as PROTOCOL.md sections 4 to 6 describe them, so the tests see what the server sends.

export interface Msg { seq: number; channel: string; data: Record<string, unknown> }
interface Frame { type: string; seq?: number; channel?: string; data?: unknown }

export class PollClient {
  readonly #endpoint: string;
  #session = '';
  #since = 0;
  #nextId = 1;
  #queue: Msg[] = [];

  constructor(endpoint: string) {
    this.#endpoint = endpoint;
  }

  get since(): number {
    return this.#since;
  }

  async handshake(): Promise<void> {
    const response = await fetch(`${this.#endpoint}/handshake?v=1`, { method: 'POST' });
    const answer = await response.json() as { session: string; seq: number };
    this.#session = answer.session;
    this.#since = answer.seq;
  }

  /** Sends messages in one request; resolves with the refusal codes, in order. */
  async send(...messages: { type: string; channel: string; data?: unknown }[]): Promise<string[]> {
    const numbered = messages.map((message) => ({ id: this.#nextId++, ...message }));
    const response = await fetch(`${this.#endpoint}/send?session=${this.#session}`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
      body: JSON.stringify({ messages: numbered }),
    });
    const answer = await response.json() as { errors?: { code: string }[] };
    return (answer.errors ?? []).map((error) => error.code);
  }

  /** One long poll; its messages join the queue. */
  async poll(signal?: AbortSignal): Promise<void> {
    const response = await fetch(`${this.#endpoint}/poll?session=${this.#session}&since=${this.#since}`, { signal: signal ?? null });
    const frames = await response.json() as Frame[];
    for (const frame of frames) {
      if (frame.type === 'gap') throw new Error(`messages lost: ${JSON.stringify(frame)}`);
      if (frame.type !== 'msg' || frame.seq === undefined) continue;
      this.#since = frame.seq;
      this.#queue.push({ seq: frame.seq, channel: frame.channel ?? '', data: frame.data as Record<string, unknown> });
    }
  }

  /** Polls until a poll brings nothing new; takes and returns every message queued. */
  async drain(): Promise<Msg[]> {
    for (let length = -1; length !== this.#queue.length;) {
      length = this.#queue.length;
      await this.poll();
    }
    return this.#queue.splice(0);
  }

  /** Polls until a message matches (taking it and those before it off the queue). */
  async next(match: (message: Msg) => boolean, what: string, timeoutMs = 10000): Promise<Msg> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.#queue.findIndex(match);
      if (index >= 0) return this.#queue.splice(0, index + 1)[index]!;
      if (Date.now() > deadline) throw new Error(`no message: ${what}`);
      await this.poll();
    }
  }
}
