// What an application that talks to a CometD or Faye server imports: BayeuxClient, with its three
// connection types. The size check bundles this file from dist/bayeux.mjs, a self-contained entry.
import { BayeuxClient } from '../../dist/bayeux.mjs';

const client = new BayeuxClient('/cometd');
client.subscribe('/news', (data) => console.log(data));
