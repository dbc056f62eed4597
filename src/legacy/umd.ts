// The legacy script-tag build (`dist/cometkit.legacy.umd.min.js`, ES5, global `CometKit`): the
// same API as src/umd.ts. Its `CometClient` is the modern one, which the legacy platform
// (platform.ts) serves where the page lacks `fetch` or `AbortController`, and whose streamed
// transports read through XMLHttpRequest where fetch cannot stream a body (body-reader.ts): each
// said through the logger as the client starts, as cross-tab sharing says it is unavailable.
// Queries need no fallback: the client builds its own, never with URLSearchParams.
import { CometClient as Client, type CometClientOptions } from '../client.ts';
import { streamsFetchBody } from '../../transports/body/fetch.ts';
import { hasFetch, pageScope } from './platform.ts';

export { CometError } from '../errors.ts';

export class CometClient extends Client {
  constructor(url: string, options: CometClientOptions = {}) {
    const { logger, platform } = options;
    // A platform passed in is the application's: nothing of this one applies to it.
    if (logger && !platform) {
      if (!hasFetch) logger('fetch or AbortController unavailable', 'one-shot requests by XMLHttpRequest');
      if (!streamsFetchBody(pageScope)) logger('fetch body streaming unavailable', 'xhr-streaming and multipart read by XMLHttpRequest');
    }
    super(url, options);
  }
}
