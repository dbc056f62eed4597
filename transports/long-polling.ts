// Long polling (PROTOCOL.md §5.3 `poll`): one XHR per exchange, answered by one JSON array.
import { pollingTransport, xhrJson } from './request.ts';

export const longPolling = /*#__PURE__*/ pollingTransport(
  'long-polling',
  'poll',
  (platform) => platform.XMLHttpRequest !== undefined,
  // The server answers within holdMs; the protocol layer's watchdog judges a poll that does not.
  (platform, { url, withCredentials, headers }, done) => xhrJson(platform, { url, method: 'GET', withCredentials, headers, timeoutMs: 0 }, done),
);
