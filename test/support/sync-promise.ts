// A promise-like that runs its callbacks the moment it settles, inside the call that settled it: the
// fake platform's fetch answers with it, so that a test on the virtual clock sees a one-shot answered
// within the timer that answered it, as a synchronous trace (fetchJson chains plain `then`s).

type State = 'pending' | 'fulfilled' | 'rejected';

export class SyncPromise<T> implements PromiseLike<T> {
  #state: State = 'pending';
  #value: unknown;
  #waiting: (() => void)[] = [];

  static resolve<T>(value: T): SyncPromise<T> {
    return new SyncPromise<T>((resolve) => { resolve(value); });
  }

  constructor(executor: (resolve: (value: T | PromiseLike<T>) => void, reject: (reason: unknown) => void) => void) {
    let done = false;
    const once = <Args extends unknown[]>(then: (...args: Args) => void) => (...args: Args) => {
      if (!done) {
        done = true;
        then(...args);
      }
    };
    try {
      executor(once((value) => { this.#adopt(value); }), once((reason) => { this.#settle('rejected', reason); }));
    } catch (error) {
      once(() => { this.#settle('rejected', error); })();
    }
  }

  #adopt(value: unknown) {
    if (typeof (value as PromiseLike<unknown> | null)?.then === 'function') {
      (value as PromiseLike<unknown>).then((inner) => { this.#adopt(inner); }, (reason: unknown) => { this.#settle('rejected', reason); });
    } else this.#settle('fulfilled', value);
  }

  #settle(state: State, value: unknown) {
    if (this.#state !== 'pending') return;
    this.#state = state;
    this.#value = value;
    for (const run of this.#waiting.splice(0)) run();
  }

  then<Fulfilled = T, Rejected = never>(
    onFulfilled?: ((value: T) => Fulfilled | PromiseLike<Fulfilled>) | null,
    onRejected?: ((reason: unknown) => Rejected | PromiseLike<Rejected>) | null,
  ): SyncPromise<Fulfilled | Rejected> {
    return new SyncPromise<Fulfilled | Rejected>((resolve, reject) => {
      const run = () => {
        const fulfilled = this.#state === 'fulfilled';
        const handler = fulfilled ? onFulfilled : onRejected;
        if (!handler) {
          if (fulfilled) resolve(this.#value as Fulfilled);
          else reject(this.#value);
          return;
        }
        try {
          resolve((handler as (value: unknown) => Fulfilled | Rejected)(this.#value));
        } catch (error) {
          reject(error);
        }
      };
      if (this.#state === 'pending') this.#waiting.push(run);
      else run();
    });
  }

  catch<Rejected = never>(onRejected: (reason: unknown) => Rejected | PromiseLike<Rejected>): SyncPromise<T | Rejected> {
    return this.then(undefined, onRejected);
  }
}

/** What fetch resolves with, as far as the client reads it, answering `text()` at once. */
export const syncResponse = (status: number, contentType: string, body: string): Response => ({
  status,
  headers: new Headers({ 'Content-Type': contentType }),
  text: () => SyncPromise.resolve(body),
}) as unknown as Response;
