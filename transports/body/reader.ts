// How a streaming transport reads one long GET's body as it arrives, whichever way the engine hands
// it over: through fetch() and a ReadableStream reader (body/fetch.ts) where the engine streams a
// fetch body, through an XMLHttpRequest at readyState 3 (body/xhr.ts) where it does not. The
// transport (streamed.ts) chooses one by feature detection and reads the text the same way from both.
import type { TransportRequest } from '../contract.ts';
import type { Platform } from '../../src/platform.ts';

/** What a body reader tells the transport; each returns whether the transport reads on. */
export interface BodySink {
  /** The answer's status and Content-Type arrived. */
  head: (status: number, contentType: string) => boolean;
  /** The text that arrived since the last call; `complete` once the body has ended whole. */
  text: (chunk: string, complete: boolean) => boolean;
  /** The request failed below HTTP, or the body was cut. */
  failed: () => void;
}

/** Starts reading `request`'s body into `sink`; returns the function that aborts it, after which nothing reaches the sink. */
export type BodyReader = (platform: Platform, request: TransportRequest, sink: BodySink) => () => void;

/** The reader a streamed transport uses on `platform`; undefined where the platform has none, which makes the transport unsupported there. */
export type BodyReaderFor = (platform: Platform) => BodyReader | undefined;
