// Starts the compatibility page (compat.js) with the package's ESM build, the way a module script
// uses it: CometClientCore with one transport object.
import { CometClientCore, eventsource, xhrStreaming, multipart, iframe, longPolling, jsonp } from '/dist/cometkit.mjs';

const byName = Object.fromEntries([eventsource, xhrStreaming, multipart, iframe, longPolling, jsonp].map((transport) => [transport.name, transport]));

window.cometkitCompatStart('dist/cometkit.mjs (ESM)', (endpoint, name, options) =>
  new CometClientCore(endpoint, { ...options, transports: [byName[name]] }));
