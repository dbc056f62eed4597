// The platform of the legacy bundle (dist/cometkit.legacy.umd.js, built by rollup.config.mjs): what
// the client takes when the page passes none. The modern bundles take `globalThis`, which engines
// before 2019 do not have (QtWebKit 5.212 among them); the legacy build substitutes this module's
// export for it, so the modern bundles carry nothing of it.

/** The page's global scope: `self` is the window in a page, the global scope in a worker. */
export const pageScope: object = self;
