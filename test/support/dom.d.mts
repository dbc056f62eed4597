import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'msw';

export type PageWindow = Window & typeof globalThis;

export interface Page {
  readonly window: PageWindow;
  close(): void;
}

export function mockedPage(options: { url: string; handlers: RequestHandler[] }): Page;

export function scriptedPage(options: { url: string }): Page & { readonly errors: readonly Error[] };

export interface LocalServer {
  readonly origin: string;
  /** Every request's URL, in arrival order. */
  readonly requests: readonly URL[];
  close(): Promise<void>;
}

export function serve(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<LocalServer>;
