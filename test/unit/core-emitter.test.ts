import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { createEmitter } from '../../src/emitter.ts';

interface Events {
  ping: number;
}

describe('emitter', () => {
  it('a listener that throws does not stop delivery to the others, and its error is reported', () => {
    const reported: unknown[] = [];
    const events = createEmitter<Events>((error, type) => reported.push([type, (error as Error).message]));
    const heard: string[] = [];
    events.on('ping', (value) => heard.push(`first ${value}`));
    events.on('ping', () => {
      throw new Error('boom');
    });
    events.on('ping', (value) => heard.push(`third ${value}`));
    assert.doesNotThrow(() => events.emit('ping', 1));
    assert.deepEqual(heard, ['first 1', 'third 1']);
    assert.deepEqual(reported, [['ping', 'boom']]);
  });

  it('off removes a listener; one added during delivery hears only later events', () => {
    const events = createEmitter<Events>(() => undefined);
    const heard: number[] = [];
    const late = (value: number) => heard.push(value * 10);
    const once = (value: number) => {
      heard.push(value);
      events.off('ping', once);
      events.on('ping', late);
    };
    events.on('ping', once);
    events.emit('ping', 1);
    events.emit('ping', 2);
    assert.deepEqual(heard, [1, 20]);
  });
});
