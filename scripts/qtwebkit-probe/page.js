// The page of scripts/qtwebkit-probe.mjs, in ES5: QtWebKit 5.212 parses nothing newer. PROBE (set
// by the page) names the streams' origin (the fault proxy), the mechanisms and their timing.
(function () {
  var results = { userAgent: navigator.userAgent, apis: [], mechanisms: [] };

  function api(name, read) {
    var value;
    try {
      value = read();
    } catch (error) {
      value = 'throws ' + error;
    }
    results.apis.push([name, value]);
  }
  var kind = function (value) { return typeof value == 'undefined' ? 'missing' : 'yes'; };
  var syntax = function (name, source) {
    api(name, function () {
      try {
        new Function(source);
        return 'yes';
      } catch (error) {
        return error.name;
      }
    });
  };

  api('fetch', function () { return kind(window.fetch); });
  api('URLSearchParams', function () { return kind(window.URLSearchParams); });
  api('URL constructor', function () { return new URL('/a?b=1', location.href).search == '?b=1' ? 'yes' : 'wrong'; });
  api('AbortController', function () { return kind(window.AbortController); });
  api('TextDecoder', function () { return kind(window.TextDecoder); });
  api('BroadcastChannel', function () { return kind(window.BroadcastChannel); });
  api('Web Locks (navigator.locks)', function () { return kind(navigator.locks); });
  api('EventSource', function () { return kind(window.EventSource); });
  api('XMLHttpRequest withCredentials (CORS)', function () { return 'withCredentials' in new XMLHttpRequest() ? 'yes' : 'missing'; });
  api('localStorage (enabled by the Qt application)', function () { return window.localStorage ? 'yes' : 'null'; });
  api('Promise', function () { return kind(window.Promise); });
  api('Map, Set, WeakMap', function () { return kind(window.Map) == 'yes' && kind(window.Set) == 'yes' && kind(window.WeakMap) == 'yes' ? 'yes' : 'missing'; });
  api('Symbol.iterator', function () { return window.Symbol && typeof window.Symbol.iterator == 'symbol' ? 'yes' : 'missing'; });
  api('Reflect.construct', function () { return window.Reflect ? kind(window.Reflect.construct) : 'missing'; });
  api('Object.assign', function () { return kind(Object.assign); });
  api('Object.entries', function () { return kind(Object.entries); });
  api('Array.prototype.includes', function () { return kind([].includes); });
  api('Array.prototype.flat, flatMap', function () { return kind([].flat) == 'yes' && kind([].flatMap) == 'yes' ? 'yes' : 'missing'; });
  api('String.prototype.trimEnd', function () { return kind(''.trimEnd); });
  api('String.prototype.padStart', function () { return kind(''.padStart); });
  api('globalThis', function () { return typeof globalThis == 'undefined' ? 'missing' : 'yes'; });
  api('postMessage', function () { return kind(window.postMessage); });
  syntax('arrow functions, classes, let/const, template literals', 'let f = (a) => `${a}`; class A {}');
  syntax('destructuring, default and rest parameters, for-of', 'function f({ a } = {}, ...b) { for (const c of b) {} }');
  syntax('generators', 'function* g() { yield 1; }');
  syntax('exponent operator **', 'var a = 2 ** 3;');
  syntax('async functions', 'async function f() { await 1; }');
  syntax('object spread and rest', 'var a = { ...{} };');
  syntax('optional catch binding', 'try {} catch {}');
  syntax('optional chaining ?.', 'var a = ({})?.b;');
  syntax('nullish coalescing ??', 'var a = null ?? 1;');
  syntax('class fields', 'class A { x = 1; }');

  var names = PROBE.mechanisms;
  var waitMs = PROBE.gapMs * PROBE.events + 1500;

  /** Opens mechanism `name` (cut by the proxy after the second event when `cut`); calls `seen(n)` per event, `ended(what)` on an end. */
  function open(name, cut, seen, ended) {
    var url = PROBE.streams + '/stream?m=' + encodeURIComponent(name) + '&cut=' + (cut ? 1 : 0) + '&t=' + Math.random();
    if (name == 'eventsource') {
      var source = new EventSource(url);
      source.onmessage = function (event) { seen(event.data); };
      source.onerror = function () { ended('error event, readyState ' + source.readyState); source.close(); };
      return function () { source.close(); };
    }
    if (name.indexOf('iframe') == 0) {
      var frame = document.createElement('iframe');
      var onMessage = function (event) { if (event.source == frame.contentWindow) seen(event.data); };
      window.addEventListener('message', onMessage);
      frame.onload = function () { ended('load event'); };
      frame.style.display = 'none';
      frame.src = url;
      document.body.appendChild(frame);
      return function () {
        window.removeEventListener('message', onMessage);
        frame.onload = null;
        frame.src = 'about:blank';
        frame.parentNode.removeChild(frame);
      };
    }
    var xhr = new XMLHttpRequest();
    var read = 0;
    xhr.open('GET', url);
    xhr.onreadystatechange = function () {
      if (xhr.readyState >= 3 && xhr.status == 200) {
        var text = xhr.responseText;
        var events = name == 'multipart' ? text.match(/\r\n\r\n\d+/g) || [] : text.match(/^\d+$/gm) || [];
        for (; read < events.length; read++) seen(events[read].replace(/\s/g, ''));
      }
      if (xhr.readyState == 4) ended('readyState 4, status ' + xhr.status);
    };
    xhr.onerror = function () { ended('error event'); };
    xhr.send();
    return function () {
      xhr.onreadystatechange = xhr.onerror = null;
      xhr.abort();
    };
  }

  function run(name, cut, done) {
    var started = Date.now();
    var arrivals = [];
    var ends = [];
    var close = open(name, cut, function () { arrivals.push(Date.now() - started); }, function (what) {
      if (ends.indexOf(what) < 0) ends.push(what);
    });
    setTimeout(function () {
      close();
      done(arrivals, ends);
    }, waitMs);
  }

  function probe(index) {
    if (index == names.length) return jsonp();
    var name = names[index];
    run(name, false, function (arrivals, uncutEnds) {
      var streams = arrivals.length == PROBE.events && arrivals[0] < PROBE.gapMs * (PROBE.events - 1) - 100;
      run(name, true, function (cutArrivals, ends) {
        results.mechanisms.push({
          name: name,
          streams: streams ? 'yes' : (arrivals.length ? 'no: held back' : 'no: nothing read') + (uncutEnds.length ? ' (' + uncutEnds.join('; ') + ')' : ''),
          arrivals: arrivals,
          cut: cutArrivals.length + ' events, then ' + (ends.join('; ') || 'nothing (the page is not told)'),
        });
        probe(index + 1);
      });
    });
  }

  function jsonp() {
    var script = document.createElement('script');
    var row = { name: 'jsonp <script>, cross-origin', streams: 'n/a (one answer per request)', arrivals: [], cut: 'n/a' };
    var finish = function (what) {
      row.cut = what;
      results.mechanisms.push(row);
      send();
    };
    window.probeCallback = function () { row.arrivals.push('called back'); };
    script.onload = function () { finish(row.arrivals.length ? 'works' : 'loaded without calling back'); };
    script.onerror = function () { finish('error event'); };
    script.src = PROBE.streams + '/jsonp?callback=probeCallback';
    document.head.appendChild(script);
  }

  function send() {
    // Read last: a module script would have run by now (module scripts are deferred).
    api('<script type="module">', function () { return document.getElementById('module-ran') ? 'runs' : 'ignored'; });
    document.getElementById('out').textContent = JSON.stringify(results, null, 1);
    // What the driver (scripts/lib/qtwebkit.mjs) reads once the status says done.
    window.cometkitResult = results;
    window.status = 'cometkit-done';
  }

  probe(0);
})();
