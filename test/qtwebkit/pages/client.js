// A CometClient of the legacy bundle in QtWebKit, as TEST configures it: { endpoint, options
// (CometClient options; `logger` is added), down and up (channels), bursts, burst (messages a
// burst), upstream (publishes), size (payload padding) }. It publishes `upstream` messages on
// `up` while the server publishes bursts on `down` (through /control/publish on the page's own
// origin), waits for every one of them, and leaves in `window.cometkitResult` what arrived, in
// order, and what the client reported.
(function () {
  var test = window.TEST;
  var started = Date.now();
  var result = { down: [], up: [], acknowledged: 0, errors: [], states: [], transports: [], gaps: [], log: [], failure: null };
  var options = test.options;
  options.logger = function (message, detail) {
    result.log.push((Date.now() - started) + ' ' + message + (detail === undefined ? '' : ' ' + JSON.stringify(detail)));
  };
  var client = new CometKit.CometClient(test.endpoint, options);
  client.on('error', function (error) {
    // Neither happens in a healthy run of a transport the engine supports: stop at once (below).
    if (error.type === 'bug' || error.type === 'unsupported') result.fatal = error.type + ': ' + error.message;
    result.errors.push({ type: error.type, transport: error.transport, status: error.status, willRetry: error.willRetry, isCometError: error instanceof CometKit.CometError });
  });
  client.on('statechange', function (change) { result.states.push(change.state + ' ' + change.reason); });
  client.on('transport', function (chosen) { result.transports.push(chosen.name + ' ' + chosen.reason); });
  client.on('gap', function (gap) { result.gaps.push(gap); });
  client.subscribe(test.down, function (data) { result.down.push(data.index); });
  client.subscribe(test.up, function (data) { result.up.push(data.index); });

  function sleep(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }
  function waitFor(check, what, timeoutMs) {
    var deadline = Date.now() + timeoutMs;
    return new Promise(function (resolve, reject) {
      (function poll() {
        // A client that throws (on an API the engine lacks, say) retries for ever: stop at once.
        if (result.fatal) reject(new Error('the client reported ' + result.fatal));
        else if (check()) resolve();
        else if (Date.now() > deadline) reject(new Error('timed out waiting for ' + what));
        else setTimeout(poll, 25);
      })();
    });
  }
  function publishDown(from, count) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open('GET', '/control/publish?channel=' + encodeURIComponent(test.down) + '&from=' + from + '&count=' + count + '&size=' + (test.size || 0));
      xhr.onload = resolve;
      xhr.onerror = function () { reject(new Error('control publish failed')); };
      xhr.send();
    });
  }
  var acknowledged = [];
  function publishUp(index) {
    acknowledged.push(client.publish(test.up, { index: index }).then(function () { result.acknowledged += 1; }));
  }
  var nextUp = 2;
  function burst(number) {
    if (number === test.bursts) return Promise.resolve();
    return publishDown(number * test.burst + 1, test.burst).then(function () {
      for (var each = 0; each < test.upstream / test.bursts && nextUp <= test.upstream; each += 1) publishUp(nextUp++);
      // Bursts a little apart, so that cuts land before, between and inside them.
      return waitFor(function () { return result.down.length >= number * test.burst; }, 'the client to keep up', 30000);
    }).then(function () { return sleep(100); }).then(function () { return burst(number + 1); });
  }

  // The first upstream publish is acknowledged after the subscriptions were applied (in order).
  client.publish(test.up, { index: 1 }).then(function () {
    result.acknowledged += 1;
    return burst(0);
  }).then(function () {
    return waitFor(function () { return result.down.length >= test.bursts * test.burst; }, 'every downstream message', 60000);
  }).then(function () {
    return waitFor(function () { return result.up.length >= test.upstream; }, 'every upstream message', 30000);
  }).then(function () {
    return Promise.all(acknowledged);
  }).then(function () {
    // Anything delivered twice would show up now.
    return sleep(300);
  }).catch(function (error) {
    result.failure = String(error);
  }).then(function () {
    result.transport = client.transport;
    result.state = client.state;
    client.close();
    result.log = result.log.slice(-60);
    window.cometkitResult = result;
    window.status = 'cometkit-done';
  });
})();
