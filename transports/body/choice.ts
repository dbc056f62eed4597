// Which body reader xhr-streaming and multipart use (streamed.ts), by feature detection. The modern
// bundles are ES2020, and every engine that parses ES2020 (`?.`: Chrome 80, Firefox 74, Safari 13.1)
// streams a fetch body (`Response.body`: Chrome 43, Firefox 65, Safari 10.1; TextDecoder: Chrome 38,
// Firefox 19, Safari 10.1; MDN browser-compat-data, docs/ENGINES.md): they carry the fetch reader
// alone, and on a platform without it both transports are unsupported (the negotiator moves on).
// The legacy build substitutes src/legacy/body-reader.ts for this module (rollup.config.mjs), which
// reads through XMLHttpRequest where fetch cannot stream.
import { fetchBody, streamsFetchBody } from './fetch.ts';
import type { BodyReaderFor } from './reader.ts';

export const chooseBodyReader: BodyReaderFor = (platform) => streamsFetchBody(platform) ? fetchBody : undefined;
