// The six transports without cross-tab sharing: what `CometClient` is with `shareAcrossTabs: false`
// (every transport, the full negotiator, batched sends, the page lifecycle, one connection per
// endpoint for the page), put together from the core. The size check bundles it from dist/ with
// the UMD's minifier settings: issue #4's "full UMD (all six transports)", before cross-tab sharing.
import {
  CometClientCore, CometError, createNegotiator, batchMessages, pageLifecycle, sharedConnections,
  eventsource, xhrStreaming, multipart, iframe, longPolling, jsonp,
} from '../../dist/cometkit.mjs';

const client = new CometClientCore('/comet', {
  transports: [eventsource, xhrStreaming, multipart, iframe, longPolling, jsonp],
  negotiator: createNegotiator,
  batching: batchMessages,
  lifecycle: pageLifecycle,
  connect: sharedConnections,
});
client.subscribe('news', (data) => console.log(data));
client.on('error', (error) => console.log(error instanceof CometError));
