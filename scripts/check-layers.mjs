// Part of `npm run lint`: dependencies in src/, transports/ and server/ point one way, with no import
// cycle anywhere (CONTRIBUTING.md, "Layout"). Exits 1 and names each offending import.
//
//   server/       imports nothing of the client
//   transports/   imports nothing of src/ but src/platform.ts (the environment every part uses)
//   transports/contract.ts, what the core and the transports share, imports nothing else
//   src/          may import transports/; the main entry never imports src/bayeux/
import { fileURLToPath } from 'node:url';
import { cycles, importGraph, violations } from './lib/import-graph.mjs';

export const LAYERED = ['src', 'transports', 'server'];

export const RULES = [
  {
    from: /^server\//,
    mayImport: (target) => target.startsWith('server/'),
    because: 'the server is independent of the client',
  },
  {
    from: /^transports\//,
    mayImport: (target) => target.startsWith('transports/') || target === 'src/platform.ts',
    because: 'transports depend on the contract and the Platform only, never on the core',
  },
  {
    from: /^transports\/contract\.ts$/,
    mayImport: (target) => target === 'src/platform.ts',
    because: 'the contract is the bottom layer: it depends on no transport',
  },
  {
    from: /^src\/(?!bayeux\/)/,
    mayImport: (target) => !target.startsWith('src/bayeux/'),
    because: 'the main entry never carries the Bayeux client',
  },
];

/** The problems of the tree at `root`: each cycle, then each import that breaks a rule. */
export function checkLayers(root, dirs = LAYERED, rules = RULES) {
  const graph = importGraph(root, dirs);
  return [
    ...cycles(graph).map((cycle) => `import cycle: ${cycle.join(' <-> ')}`),
    ...violations(graph, rules),
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const problems = checkLayers(fileURLToPath(new URL('../', import.meta.url)));
  for (const problem of problems) console.error(`check-layers: ${problem}`);
  process.exit(problems.length ? 1 : 0);
}
