// The import graph of TypeScript sources, and the checks `scripts/check-layers.mjs` runs on it: no
// import cycle, and the layer rules of CONTRIBUTING.md. Type-only imports count: a cycle of types
// is still two modules that cannot be understood one without the other.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

// `import ... from '...'`, `export ... from '...'`, `import '...'` and `import('...')`. Comments
// are removed first, so an example in a comment is no import.
const specifiers = /(?:^|[;\n])\s*(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]|(?:^|[;\n])\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;
const comments = /\/\*[\s\S]*?\*\/|(?<![:'"`\\])\/\/[^\n]*/g;

function sources(root, dir) {
  let entries;
  try {
    entries = readdirSync(join(root, dir), { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(root, path);
    return /\.(ts|mts)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/**
 * The relative imports of every source file under `dirs` (paths relative to `root`, with `/`):
 * a Map from each file to the files it imports. Imports of packages and `node:` modules are left out.
 */
export function importGraph(root, dirs) {
  const graph = new Map();
  for (const file of dirs.flatMap((dir) => sources(root, dir))) {
    const text = readFileSync(join(root, file), 'utf8').replace(comments, '');
    const imported = new Set();
    for (const match of text.matchAll(specifiers)) {
      const specifier = match[1] ?? match[2] ?? match[3];
      if (!specifier?.startsWith('.')) continue;
      imported.add(relative(root, resolve(root, dirname(file), specifier)).split('\\').join('/'));
    }
    graph.set(file.split('\\').join('/'), [...imported].sort());
  }
  return graph;
}

/** Every import cycle: the strongly connected components of more than one file, or a file importing itself (Tarjan). */
export function cycles(graph) {
  let counter = 0;
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const found = [];
  const visit = (file) => {
    index.set(file, counter);
    low.set(file, counter++);
    stack.push(file);
    onStack.add(file);
    for (const next of graph.get(file) ?? []) {
      if (!graph.has(next)) continue;
      if (!index.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file), low.get(next)));
      } else if (onStack.has(next)) low.set(file, Math.min(low.get(file), index.get(next)));
    }
    if (low.get(file) !== index.get(file)) return;
    const component = [];
    let member;
    do {
      member = stack.pop();
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    if (component.length > 1 || graph.get(file).includes(file)) found.push(component.sort());
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return found;
}

/**
 * The imports that break a rule. A rule: `{ from, mayImport, because }`, where `from` matches the
 * importing file and `mayImport(target)` says whether it may import `target`.
 */
export function violations(graph, rules) {
  const found = [];
  for (const [file, imports] of graph) {
    for (const rule of rules) {
      if (!rule.from.test(file)) continue;
      for (const target of imports) if (!rule.mayImport(target)) found.push(`${file} imports ${target}: ${rule.because}`);
    }
  }
  return found;
}
