// Tracks the sockets that carry each session's downstream requests, so the demo can cut a
// session's connection on demand. The reference server has no such call (cutting is not part of
// the protocol); this works around its public API, reading the session id from the request URL.

const DOWNSTREAM = new Set(['sse', 'xhr', 'multipart', 'iframe', 'poll', 'jsonp']);

export function createConnectionTracker(endpointPath) {
  /** sessionId -> Set of sockets with a downstream response in progress */
  const open = new Map();

  return {
    /** Call for every request before the comet handler sees it. */
    track(req, res, url) {
      const resource = url.pathname.slice(endpointPath.length + 1);
      const session = url.searchParams.get('session');
      if (!url.pathname.startsWith(`${endpointPath}/`) || !DOWNSTREAM.has(resource) || !session) return;
      let sockets = open.get(session);
      if (!sockets) open.set(session, sockets = new Set());
      const socket = req.socket;
      sockets.add(socket);
      res.once('close', () => {
        sockets.delete(socket);
        if (sockets.size === 0 && open.get(session) === sockets) open.delete(session);
      });
    },
    /** Destroys the sockets of the sessions' open downstream responses, as a dropped network would. */
    cut(sessionIds) {
      let count = 0;
      for (const id of sessionIds) {
        for (const socket of open.get(id) ?? []) {
          socket.destroy();
          count += 1;
        }
      }
      return count;
    },
  };
}
