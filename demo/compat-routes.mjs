// The compatibility page's helpers on each demo endpoint (same-origin and cross-origin): channels
// `compat/<id>` that echo what is published to them, a timed burst of messages, and the number of
// downstream requests a session used, which tells whether several messages came in one response.

export const COMPAT_CHANNEL = /^compat\/[A-Za-z0-9-]{8,40}$/;
const MAX_BURST = 10;

export const compatHooks = {
  authorizeSubscribe: ({ channel }) => COMPAT_CHANNEL.test(channel),
  authorizePublish: ({ channel }) => COMPAT_CHANNEL.test(channel),
};

/** Echoes a compat publish to the channel's subscribers (the reference server's default). */
export function echoCompat(comet, { channel, data }) {
  if (COMPAT_CHANNEL.test(channel)) comet.publish(channel, data);
}

function downstreamRequests(comet, channel) {
  return comet.inspect().perSession
    .filter((session) => session.subscriptions.includes(channel))
    .reduce((sum, session) => sum + session.downstreamRequests, 0);
}

/**
 * Answers /demo/compat/burst and /demo/compat/requests; false for any other path.
 * `sendJson(status, body)` writes the answer (with the CORS header the caller decided on).
 */
export function compatRoute(comet, url, sendJson) {
  const channel = url.searchParams.get('channel') ?? '';
  if (url.pathname !== '/demo/compat/burst' && url.pathname !== '/demo/compat/requests') return false;
  if (!COMPAT_CHANNEL.test(channel)) {
    sendJson(400, { error: 'bad-channel' });
    return true;
  }
  if (url.pathname === '/demo/compat/requests') {
    sendJson(200, { downstreamRequests: downstreamRequests(comet, channel) });
    return true;
  }
  const count = Math.min(MAX_BURST, Math.max(1, Number.parseInt(url.searchParams.get('count') ?? '4', 10) || 4));
  const gapMs = Math.min(1000, Math.max(10, Number.parseInt(url.searchParams.get('gapMs') ?? '150', 10) || 150));
  for (let index = 1; index <= count; index += 1) {
    setTimeout(() => comet.publish(channel, { burst: index, of: count }), index * gapMs).unref();
  }
  sendJson(200, { scheduled: count });
  return true;
}
