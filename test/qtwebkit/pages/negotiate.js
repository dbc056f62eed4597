// A CometClient of the legacy bundle in QtWebKit with TEST.options at TEST.endpoint: does it get
// its own publish back (the reference server broadcasts a publish to the channel, sender
// included), with which transport, and what did it report on the way? Done when the echo arrives,
// or after TEST.waitMs (`echoed` false).
(function () {
  var test = window.TEST;
  var started = Date.now();
  var result = { echoed: false, errors: [], states: [], transports: [], log: [], transport: null, state: null };
  var options = test.options;
  options.logger = function (message, detail) {
    result.log.push(message + (detail === undefined ? '' : ' ' + JSON.stringify(detail)));
  };
  var client = new CometKit.CometClient(test.endpoint, options);
  var done = false;
  var finish = function () {
    if (done) return;
    done = true;
    result.transport = client.transport;
    result.state = client.state;
    result.elapsedMs = Date.now() - started;
    client.close();
    window.cometkitResult = result;
    window.status = 'cometkit-done';
  };
  client.on('error', function (error) {
    result.errors.push({ type: error.type, transport: error.transport, willRetry: error.willRetry, isCometError: error instanceof CometKit.CometError });
  });
  client.on('statechange', function (change) { result.states.push(change.state + ' ' + change.reason); });
  client.on('transport', function (chosen) { result.transports.push(chosen.name + ' ' + chosen.reason); });
  client.subscribe(test.channel, function (data) {
    if (data.echo === 1) {
      result.echoed = true;
      finish();
    }
  });
  client.publish(test.channel, { echo: 1 }).catch(function (error) { result.publishError = error.type; });
  setTimeout(finish, test.waitMs);
})();
