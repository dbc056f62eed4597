// The parent the legacy build gives CometError (src/errors.ts) in place of the global `Error`
// (rollup.config.mjs). An ES5 class calls its parent as a function, and `Error` called so makes a
// new object instead of filling in `this`: Babel would wrap it in a helper that constructs it by
// Reflect.construct or Function.prototype.bind (263 B min+gzip of the legacy bundle). This parent
// fills in `this` itself, and its prototype is Error's, so `instanceof Error` holds, as
// `instanceof CometError` does (test/qtwebkit/bundle.test.ts, in an engine without Reflect.construct).
interface Filled {
  message: string;
  stack?: string | undefined;
}

function LegacyError(this: Filled, message: string) {
  this.message = message;
  // The engine's stack from here, as a native error would have it.
  this.stack = new Error(message).stack;
}
LegacyError.prototype = Error.prototype;

export { LegacyError };
