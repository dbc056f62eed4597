// Script-tag long polling (PROTOCOL.md §5.3 `jsonp`): one `<script>` per exchange, whose body
// passes one JSON array to our callback. Scripts load across origins without CORS, so it brings the
// script upstream (handshake and sends by GET) along.
import { pollingTransport } from './request.ts';
import { byScript, scriptJson } from './script.ts';

export const jsonp = /*#__PURE__*/ pollingTransport({
  name: 'jsonp',
  resource: 'jsonp',
  isSupported: (platform) => !!platform.document && !!platform.window,
  exchange: scriptJson,
  script: byScript,
});
