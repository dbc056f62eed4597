// The legacy script-tag build (`dist/cometkit.legacy.umd.min.js`, ES5, global `CometKit`): the
// same API as src/umd.ts. Its `CometClient` is the modern one, which the legacy platform
// (platform.ts) serves where the page lacks `fetch` or `AbortController`, saying so through the
// logger as the client starts, as cross-tab sharing says it is unavailable.
import { CometClient as Client, type CometClientOptions } from '../client.ts';
import { hasFetch } from './platform.ts';

export { CometError } from '../errors.ts';

export class CometClient extends Client {
  constructor(url: string, options: CometClientOptions = {}) {
    // A platform passed in is the application's: nothing of this one applies to it.
    if (!hasFetch && !options.platform) options.logger?.('fetch or AbortController unavailable', 'one-shot requests by XMLHttpRequest');
    super(url, options);
  }
}
