// Mocha's globals as @web/test-runner provides them in the page.
declare function describe(title: string, body: () => void): void;
declare function it(title: string, body: () => Promise<void> | void): void;
declare function before(body: () => Promise<void> | void): void;
declare function after(body: () => Promise<void> | void): void;
declare function beforeEach(body: () => Promise<void> | void): void;
declare function afterEach(body: (this: { currentTest?: { state?: string } }) => Promise<void> | void): void;
