// Long polling (PROTOCOL.md §5.3 `poll`): one fetch per exchange, answered by one JSON array. The
// server answers within holdMs; the protocol layer's watchdog judges a poll that does not.
import { fetchJson, pollingTransport } from './request.ts';

export const longPolling = /*#__PURE__*/ pollingTransport({
  name: 'long-polling',
  resource: 'poll',
  isSupported: (platform) => !!platform.fetch,
  exchange: fetchJson,
});
