// The compatibility page: runs each transport alone, same-origin and cross-origin, and measures it.
// Written in ES5 so that every engine runs the same measurement: an engine with modules starts it
// with the package's ESM build (compat-modern.js, CometClientCore and the transport objects), one
// without (QtWebKit 5.212, old Safari) with the legacy UMD bundle (compat-legacy.js, CometClient by
// transport name). Results are on `window.cometkitCompat` ({ done, userAgent, bundle, results })
// for `npm run compat`, which also watches `window.status` in QtWebKit.
(function () {
  'use strict';

  var TRANSPORTS = ['eventsource', 'xhr-streaming', 'multipart', 'iframe', 'long-polling', 'jsonp'];
  var OPEN_TIMEOUT_MS = 8000;
  var MESSAGE_TIMEOUT_MS = 5000;
  var ROUND_TRIPS = 5;
  var BURST = { count: 4, gapMs: 150 };
  var $ = function (id) { return document.getElementById(id); };
  var now = function () { return window.performance ? performance.now() : Date.now(); };

  var state = { done: false, userAgent: navigator.userAgent, bundle: null, results: [] };
  window.cometkitCompat = state;

  /** Rejects after `ms`, for a race with what it bounds. */
  function timeout(ms, what) {
    return new Promise(function (resolve, reject) { setTimeout(function () { reject(new Error('timeout: ' + what)); }, ms); });
  }

  /** Resolves when the client is open; rejects when it closes or takes too long. */
  function opened(client) {
    return Promise.race([
      new Promise(function (resolve, reject) {
        client.on('statechange', function (change) {
          if (change.state === 'open') resolve();
          else if (change.state === 'closed') reject(new Error(change.reason));
        });
      }),
      timeout(OPEN_TIMEOUT_MS, 'open'),
    ]);
  }

  function firstIndex(list, match) {
    for (var index = 0; index < list.length; index += 1) if (match(list[index])) return index;
    return -1;
  }

  /** Messages of one channel, awaited one by one. */
  function inbox() {
    var queue = [];
    var waiters = [];
    return {
      push: function (data) {
        var index = firstIndex(waiters, function (waiter) { return waiter.match(data); });
        if (index >= 0) waiters.splice(index, 1)[0].resolve(data);
        else queue.push(data);
      },
      next: function (match, what) {
        var index = firstIndex(queue, match);
        if (index >= 0) return Promise.resolve(queue.splice(index, 1)[0]);
        return Promise.race([new Promise(function (resolve) { waiters.push({ match: match, resolve: resolve }); }), timeout(MESSAGE_TIMEOUT_MS, what)]);
      },
    };
  }

  /** A GET answered with JSON, by XHR (which every engine has). */
  function getJson(url) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open('GET', url);
      xhr.onload = function () {
        if (xhr.status === 200) resolve(JSON.parse(xhr.responseText));
        else reject(new Error('HTTP ' + xhr.status));
      };
      xhr.onerror = function () { reject(new Error('network')); };
      xhr.send();
    });
  }

  var median = function (values) { return values.slice().sort(function (a, b) { return a - b; })[Math.floor(values.length / 2)]; };
  var randomId = function () { return (Math.random().toString(36).slice(2, 10) + Math.random().toString(36).slice(2, 10)).slice(0, 16); };

  /** Measures transport `name` against `endpoint`, with clients from `connect(endpoint, name, options)`. */
  function measure(connect, name, origin, endpoint) {
    var result = { transport: name, origin: origin, works: false, firstFrameMs: null, latencyMs: null, streams: null, newRequests: null, error: null };
    var errors = [];
    var api = endpoint.replace(/\/comet$/, '');
    var channel = 'compat/' + randomId();
    var query = 'channel=' + encodeURIComponent(channel);
    var messages = inbox();
    var started = now();
    var trips = [];
    var before = 0;
    var client;
    try {
      client = connect(endpoint, name, { probeTimeoutMs: 4000, reconnect: { maxAttempts: 1 } });
    } catch (error) {
      result.error = String(error);
      return Promise.resolve(result);
    }
    client.on('error', function (error) { errors.push(error.type + (error.status ? ' ' + error.status : '')); });

    function roundTrip(ping) {
      if (ping > ROUND_TRIPS) return Promise.resolve();
      var sent = now();
      client.publish(channel, { ping: ping }).catch(function () { /* the wait for its echo fails instead */ });
      return messages.next(function (data) { return data.ping === ping; }, 'round trip').then(function () {
        trips.push(now() - sent);
        return roundTrip(ping + 1);
      });
    }
    function burstMessage(index) {
      if (index > BURST.count) return Promise.resolve();
      return messages.next(function (data) { return data.burst === index; }, 'burst').then(function () { return burstMessage(index + 1); });
    }

    return opened(client).then(function () {
      result.firstFrameMs = Math.round(now() - started);
      client.subscribe(channel, function (data) { messages.push(data); });
      // The echo of a first publish proves the subscription and the whole path work.
      return client.publish(channel, { ping: 0 });
    }).then(function () {
      return messages.next(function (data) { return data.ping === 0; }, 'first message');
    }).then(function () {
      result.works = true;
      return roundTrip(1);
    }).then(function () {
      result.latencyMs = Math.round(median(trips) * 10) / 10;
      return getJson(api + '/demo/compat/requests?' + query);
    }).then(function (counted) {
      before = counted.downstreamRequests;
      return getJson(api + '/demo/compat/burst?' + query + '&count=' + BURST.count + '&gapMs=' + BURST.gapMs);
    }).then(function () {
      return burstMessage(1);
    }).then(function () {
      return getJson(api + '/demo/compat/requests?' + query);
    }).then(function (counted) {
      // A streaming transport carries the whole burst on the request already open; a polling one
      // needs a new request after each answer.
      result.newRequests = counted.downstreamRequests - before;
      result.streams = result.newRequests === 0;
    }).catch(function (error) {
      result.error = errors[0] || (error instanceof Error ? error.message : String(error));
    }).then(function () {
      client.close();
      return result;
    });
  }

  function cells(result) {
    if (!result) return [['pending', '…'], ['pending', ''], ['pending', ''], ['pending', '']];
    if (!result.works) return [['fails', 'fails' + (result.error ? ': ' + result.error : '')], ['', result.firstFrameMs === null ? '—' : result.firstFrameMs + ' ms'], ['', '—'], ['', '—']];
    var streams = result.streams === null ? '—' : result.streams ? 'yes' : 'no (' + result.newRequests + ' new requests)';
    return [['works', 'works'], ['', result.firstFrameMs + ' ms'], ['', result.latencyMs + ' ms'], ['', streams]];
  }

  function render() {
    var body = $('matrix');
    while (body.firstChild) body.removeChild(body.firstChild);
    TRANSPORTS.forEach(function (transport) {
      var row = document.createElement('tr');
      var name = document.createElement('th');
      name.scope = 'row';
      name.textContent = transport;
      row.appendChild(name);
      ['same', 'cross'].forEach(function (origin) {
        var result = state.results[firstIndex(state.results, function (entry) { return entry.transport === transport && entry.origin === origin; })];
        cells(result).forEach(function (pair) {
          var cell = document.createElement('td');
          if (pair[0]) cell.className = pair[0];
          cell.textContent = pair[1];
          row.appendChild(cell);
        });
      });
      body.appendChild(row);
    });
  }

  function runAll(connect) {
    $('run').disabled = true;
    state.done = false;
    state.results.length = 0;
    render();
    var sameOrigin = location.protocol + '//' + location.host + '/comet';
    var runs = [];
    return getJson('/demo/config.json').then(function (config) {
      TRANSPORTS.forEach(function (transport) {
        runs.push([transport, 'same', sameOrigin], [transport, 'cross', config.crossOrigin]);
      });
      var next = function (index) {
        if (index === runs.length) return undefined;
        var run = runs[index];
        $('progress').textContent = 'Running ' + run[0] + ', ' + run[1] + ' origin…';
        return measure(connect, run[0], run[1], run[2]).then(function (result) {
          state.results.push(result);
          render();
          return next(index + 1);
        });
      };
      return next(0);
    }).then(function () {
      var working = state.results.filter(function (result) { return result.works; }).length;
      $('progress').textContent = 'Done: ' + working + ' of ' + state.results.length + ' combinations work in this browser.';
    }, function (error) {
      $('progress').textContent = 'Stopped: ' + error.message;
    }).then(function () {
      $('run').disabled = false;
      state.done = true;
      // QtWebKit's driver (scripts/lib/qtwebkit.mjs) reads the results once the status says so.
      window.status = 'cometkit-done';
    });
  }

  /**
   * Starts the page with `connect(endpoint, transportName, options)`, which makes a client of one
   * transport; `bundle` names the build it comes from, shown on the page.
   */
  window.cometkitCompatStart = function (bundle, connect) {
    state.bundle = bundle;
    $('engine').textContent = 'Browser: ' + navigator.userAgent + ' · bundle: ' + bundle;
    $('run').addEventListener('click', function () { runAll(connect); });
    render();
    runAll(connect);
  };
})();
