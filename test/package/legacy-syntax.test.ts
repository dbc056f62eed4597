// The legacy bundle (dist/cometkit.legacy.umd*.js) is ES5 syntax, which engines before 2017 parse:
// an ES5 parser takes all of it. The modern bundle is the control: the same parser refuses it, so
// a check that passes is not a parser that takes anything. Needs dist/ (npm test builds first).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { parse } from 'acorn';

const read = (file: string) => readFileSync(new URL(`../../dist/${file}`, import.meta.url), 'utf8');

for (const file of ['cometkit.legacy.umd.js', 'cometkit.legacy.umd.min.js']) {
  test(`${file} parses as ES5`, () => {
    assert.doesNotThrow(() => parse(read(file), { ecmaVersion: 5, sourceType: 'script' }));
  });
}

test('the modern UMD bundle does not parse as ES5 (the check can fail)', () => {
  assert.throws(() => parse(read('cometkit.umd.min.js'), { ecmaVersion: 5, sourceType: 'script' }), SyntaxError);
});

// transports/body/choice.ts leaves the XHR body reader out of the modern bundles on this ground:
// they need ES2020 syntax (`?.`, `??`), and every engine that parses it streams a fetch body.
for (const [file, sourceType] of [['cometkit.umd.min.js', 'script'], ['cometkit.mjs', 'module']] as const) {
  test(`${file} needs ES2020: it does not parse as ES2019, so no engine without fetch streaming loads it`, () => {
    assert.throws(() => parse(read(file), { ecmaVersion: 2019, sourceType }), SyntaxError);
    assert.doesNotThrow(() => parse(read(file), { ecmaVersion: 2020, sourceType }));
  });
}

test('the legacy bundle defines the same CometKit global as the modern one', () => {
  const exported = (file: string) => {
    // A UMD bundle without a module system in sight writes its exports on its global scope.
    const scope = { self: {}, CometKit: {} };
    runInNewContext(read(file), scope);
    return Object.keys(scope.CometKit).sort();
  };
  assert.deepEqual(exported('cometkit.legacy.umd.min.js'), exported('cometkit.umd.min.js'));
  assert.deepEqual(exported('cometkit.legacy.umd.min.js'), ['CometClient', 'CometError']);
});
