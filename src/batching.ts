// Batched sends (`batching: batchMessages`, what `CometClient` uses): the messages of a task, and
// what queued while a request was in flight, travel together, up to the server's limits (§6.4) or,
// by script, the URL's room (§6.2). Data that cannot be sent is refused before it is sent
// (`bad-data`, `too-large`). When the server refuses a batch whole (§6.2), the outbox sends its
// messages again one per request, so that only the culprit is refused.
import type { Batching } from './outbox.ts';
import { refuse } from './outbox.ts';
import { messageBody } from './protocol.ts';

export const batchMessages: Batching = {
  body: messageBody,
  batch: (items, base, { maxBatchMessages, maxBodyBytes, urlRoom }, solo) => {
    // 16: `{"messages":[]}` around a POST body.
    const budget = urlRoom ?? maxBodyBytes - 16;
    let json = '';
    let used = 0;
    let count = 0;
    for (let item; count < (solo ? 1 : maxBatchMessages) && (item = items[count]);) {
      const encoded = `{"id":${base + count},${item.body}}`;
      const escaped = encodeURIComponent(encoded);
      // A POST counts UTF-8 bytes; a GET counts the percent-encoded characters. 3: the separating comma.
      const size = 3 + (urlRoom ? escaped : escaped.replace(/%../g, '-')).length;
      if (used + size <= budget) {
        used += size;
        json += (count++ ? ',' : '') + encoded;
      } else if (count) break;
      else refuse(items.shift(), 'too-large');
    }
    return { json, count };
  },
};
