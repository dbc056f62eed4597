// Long polling (PROTOCOL.md §5.3 `poll`): one XHR per exchange, answered by one JSON array. The
// server answers within holdMs; the protocol layer's watchdog judges a poll that does not.
import { pollingTransport, xhrJson } from './request.ts';

export const longPolling = /*#__PURE__*/ pollingTransport('long-polling', 'poll', (platform) => !!platform.XMLHttpRequest, xhrJson);
