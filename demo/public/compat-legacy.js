// Starts the compatibility page (compat.js) where modules are missing, with the legacy UMD bundle
// (global CometKit): CometClient with one transport by name, its connection this page's own.
window.cometkitCompatStart('dist/cometkit.legacy.umd.min.js (ES5)', function (endpoint, name, options) {
  return new CometKit.CometClient(endpoint, {
    transports: [name],
    shareAcrossTabs: false,
    probeTimeoutMs: options.probeTimeoutMs,
    reconnect: options.reconnect,
  });
});
