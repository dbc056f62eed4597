// The script-tag build (`dist/cometkit.umd.min.js`, global `CometKit`): `CometClient`, which takes
// its transports by name and carries every part, and `CometError` for `instanceof`. The other parts
// (`CometClientCore`, the transport objects, the negotiators, `pooled`, `acrossTabs`...) are there to
// compose smaller bundles, which only a bundler makes: they come with the ESM build. Each name
// exported here costs the script-tag build bytes whether a page uses it or not.
export { CometClient } from './client.ts';
export { CometError } from './errors.ts';
