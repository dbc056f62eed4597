// Loads in QtWebKit after a bundle (TEST.bundle names it): what the page's global scope got.
(function () {
  var found = { global: window.CometKit ? Object.keys(window.CometKit).sort() : null };
  if (window.CometKit) {
    var error = new CometKit.CometError('network', 'cut', { status: 0 });
    found.error = {
      isCometError: error instanceof CometKit.CometError,
      isError: error instanceof Error,
      name: error.name,
      type: error.type,
      message: error.message,
      willRetry: error.willRetry,
    };
    var client = new CometKit.CometClient('/comet', { shareAcrossTabs: false });
    found.client = { isCometClient: client instanceof CometKit.CometClient, state: client.state };
    client.close();
    found.client.closedState = client.state;
  }
  window.cometkitResult = found;
  window.status = 'cometkit-done';
})();
