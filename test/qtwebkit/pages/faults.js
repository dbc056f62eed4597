// The stall and buffer runs of test/qtwebkit/faults.test.ts in QtWebKit, with the legacy bundle.
// TEST: { scenario: 'stall' | 'buffer', endpoint, options, channel, proxy (its id for
// /control/proxy), batch }. Leaves in `window.cometkitResult` the payload indexes that arrived,
// in order, and what the client reported, with times relative to the start.
(function () {
  var test = window.TEST;
  var started = Date.now();
  var now = function () { return Date.now() - started; };
  var result = { received: [], errors: [], states: [], transports: [], gaps: [], log: [], publishedOn: [], failure: null };
  var options = test.options;
  options.logger = function (message, detail) {
    result.log.push(now() + ' ' + message + (detail === undefined ? '' : ' ' + JSON.stringify(detail)));
  };
  var client = new CometKit.CometClient(test.endpoint, options);
  client.on('error', function (error) {
    // Neither happens in a healthy run of a transport the engine supports: stop at once (below).
    if (error.type === 'bug' || error.type === 'unsupported') result.fatal = error.type + ': ' + error.message;
    result.errors.push({ at: now(), type: error.type, transport: error.transport });
  });
  client.on('statechange', function (change) { result.states.push({ at: now(), state: change.state }); });
  client.on('transport', function (chosen) { result.transports.push({ at: now(), name: chosen.name, reason: chosen.reason }); });
  client.on('gap', function (gap) { result.gaps.push(gap); });
  client.subscribe(test.channel, function (data) { result.received.push(data.index); });
  client.subscribe(test.channel + '-ready', function () { return undefined; });

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
  function get(path) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open('GET', path);
      xhr.onload = function () { resolve(JSON.parse(xhr.responseText)); };
      xhr.onerror = function () { reject(new Error('control request failed: ' + path)); };
      xhr.send();
    });
  }
  var publish = function (from, count) { return get('/control/publish?channel=' + encodeURIComponent(test.channel) + '&from=' + from + '&count=' + count); };
  var proxy = function (action, mode) { return get('/control/proxy?id=' + test.proxy + '&do=' + action + (mode ? '&mode=' + mode : '')); };
  var arrived = function (count, what) { return waitFor(function () { return result.received.length >= count; }, what, 20000); };

  /** §7: a silent stream (or poll) is found by the watchdog; once the network is back, nothing is lost. */
  function stall() {
    var stalledAt;
    return publish(1, 50).then(function () {
      return arrived(50, 'messages before the stall');
    }).then(function () {
      return waitFor(function () { return client.state === 'open'; }, 'the client to be open', 10000);
    }).then(function () {
      stalledAt = now();
      return proxy('mode', 'stall');
    }).then(function () {
      return proxy('stall');
    }).then(function (stats) {
      result.stalls = stats.stalls;
      return publish(51, 50);
    }).then(function () {
      return waitFor(function () {
        return result.errors.some(function (error) { return error.at >= stalledAt && error.type === 'timeout'; });
      }, 'a timeout error after the stall', 20000);
    }).then(function () {
      result.detectedMs = result.errors.filter(function (error) { return error.at >= stalledAt && error.type === 'timeout'; })[0].at - stalledAt;
      // The network is back: the stalled flows are reset and new connections pass.
      return proxy('mode', 'pass');
    }).then(function () {
      return proxy('cut');
    }).then(function () {
      return publish(101, 50);
    }).then(function () {
      return arrived(150, 'messages across the stall');
    });
  }

  /** A buffering proxy: each streaming transport fails its probe in turn, a polling one takes over. */
  function buffer() {
    var batch = function (number) {
      result.publishedOn.push(client.transport);
      return publish(number * test.batch + 1, test.batch);
    };
    return batch(0).then(function () {
      return waitFor(function () { return result.transports.length >= 2; }, 'a first fallback', 15000);
    }).then(function () {
      return batch(1);
    }).then(function () {
      return waitFor(function () {
        return (client.transport === 'long-polling' || client.transport === 'jsonp') && client.state === 'open';
      }, 'a polling transport', 40000);
    }).then(function () {
      return arrived(2 * test.batch, 'messages before and during the fallback');
    }).then(function () {
      return batch(2);
    }).then(function () {
      return arrived(3 * test.batch, 'messages before, during and after the fallback');
    });
  }

  client.publish(test.channel + '-ready', { index: 0 }).then(function () {
    return test.scenario === 'stall' ? stall() : buffer();
  }).then(function () {
    // Anything delivered twice would show up now.
    return sleep(300);
  }).catch(function (error) {
    result.failure = String(error);
  }).then(function () {
    result.transport = client.transport;
    client.close();
    result.log = result.log.slice(-60);
    window.cometkitResult = result;
    window.status = 'cometkit-done';
  });
})();
