// The layer check of `npm run lint` (scripts/check-layers.mjs): this repository passes it, and it
// finds what it is there to find (a cycle, type-only or not, and an import against the layers) in
// a small tree written for the purpose.
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkLayers } from '../../scripts/check-layers.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'cometkit-layers-'));
after(() => { rmSync(scratch, { recursive: true, force: true }); });

/** A tree of `files` (path to source) in a folder of its own. */
function tree(name: string, files: Record<string, string>): string {
  const dir = join(scratch, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

describe('layers (scripts/check-layers.mjs)', () => {
  it('src/, transports/ and server/ have no import cycle and keep to their layers', () => {
    assert.deepEqual(checkLayers(root), []);
  });

  it('finds a cycle of type-only imports, and one of three files', () => {
    const dir = tree('cycles', {
      'transports/contract.ts': "import type { ScriptUpstream } from './script.ts';\nexport type Transport = { script?: ScriptUpstream };\n",
      'transports/script.ts': "import type { Transport } from './contract.ts';\nexport type ScriptUpstream = (transports: Transport[]) => void;\n",
      'src/a.ts': "import { b } from './b.ts';\nexport const a = () => b;\n",
      'src/b.ts': "export { c as b } from './c.ts';\n",
      'src/c.ts': "// import { nothing } from './d.ts' is a comment, not an import\nimport type { a } from './a.ts';\nexport const c = 1 as unknown as typeof a;\n",
    });
    assert.deepEqual(checkLayers(dir).sort(), [
      'import cycle: src/a.ts <-> src/b.ts <-> src/c.ts',
      'import cycle: transports/contract.ts <-> transports/script.ts',
      'transports/contract.ts imports transports/script.ts: the contract is the bottom layer: it depends on no transport',
    ]);
  });

  it('finds a transport that reaches into the core, and a server module that reaches into the client', () => {
    const dir = tree('layers', {
      'src/platform.ts': 'export type Platform = object;\n',
      'src/errors.ts': "import type { Platform } from './platform.ts';\nexport type E = Platform;\n",
      'transports/sse.ts': "import type { Platform } from '../src/platform.ts';\nimport type { E } from '../src/errors.ts';\nexport type T = [Platform, E];\n",
      'server/hub.ts': "import type { T } from '../transports/sse.ts';\nexport type H = T;\n",
    });
    assert.deepEqual(checkLayers(dir).sort(), [
      'server/hub.ts imports transports/sse.ts: the server is independent of the client',
      'transports/sse.ts imports src/errors.ts: transports depend on the contract and the Platform only, never on the core',
    ]);
  });
});
