// The legacy bundle's choice of body reader for xhr-streaming and multipart, substituted for
// transports/body/choice.ts at build time (rollup.config.mjs): fetch and a ReadableStream reader
// where the engine streams a fetch body, as in the modern bundles; XMLHttpRequest at readyState 3
// where it does not (QtWebKit 5.212 has no fetch, ReadableStream or TextDecoder). Feature
// detection, never the user agent.
import { fetchBody, streamsFetchBody } from '../../transports/body/fetch.ts';
import type { BodyReaderFor } from '../../transports/body/reader.ts';
import { xhrBody } from '../../transports/body/xhr.ts';

export const chooseBodyReader: BodyReaderFor = (platform) => streamsFetchBody(platform) ? fetchBody : platform.XMLHttpRequest && xhrBody;
