// A tiny typed event emitter. A listener that throws does not stop delivery to the others: its
// exception goes to `report`, never up the caller's stack (the caller is often a transport callback).

export type Listener<Payload> = (payload: Payload) => void;

/** Functions, not methods: `emit` is handed around on its own (it uses no `this`). */
export interface Emitter<Events> {
  on: <Type extends keyof Events>(type: Type, listener: Listener<Events[Type]>) => void;
  off: <Type extends keyof Events>(type: Type, listener: Listener<Events[Type]>) => void;
  emit: <Type extends keyof Events>(type: Type, payload: Events[Type]) => void;
}

/** Calls `listener`, handing whatever it throws to `report` instead of letting it escape. */
export function invoke<Args extends unknown[]>(listener: (...args: Args) => void, report: (error: unknown) => void, ...args: Args): void {
  try {
    listener(...args);
  } catch (error) {
    report(error);
  }
}

export function createEmitter<Events>(report: (error: unknown, type: keyof Events) => void): Emitter<Events> {
  const listeners: { [Type in keyof Events]?: Listener<Events[Type]>[] } = {};
  return {
    on(type, listener) {
      (listeners[type] ??= []).push(listener);
    },
    off(type, listener) {
      listeners[type] = listeners[type]?.filter((registered) => registered !== listener);
    },
    emit(type, payload) {
      // A copy: a listener may add or remove listeners while we deliver.
      for (const listener of listeners[type]?.slice() ?? []) invoke(listener, (error) => report(error, type), payload);
    },
  };
}
