// What an application that wants only Server-Sent Events imports: the core client and one
// transport. The size check bundles this file from dist/ to prove the other transports shake out.
import { CometClientCore, eventsource } from '../../dist/cometkit.mjs';

const client = new CometClientCore('/comet', { transports: [eventsource] });
client.subscribe('news', (data) => console.log(data));
