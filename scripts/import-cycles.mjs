// Lint step: fails when lib/ has an import cycle (type-only imports included), naming it.
// Dependencies point down; a cycle is a sign that something shared belongs in a lower layer.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const lib = join(root, 'lib');

const files = readdirSync(lib, { recursive: true })
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
  .map((f) => resolve(lib, f));
const imports = new Map(
  files.map((file) => [file, [...readFileSync(file, 'utf8').matchAll(/from '(\.{1,2}\/[^']+)\.js'/g)].map((m) => resolve(dirname(file), `${m[1]}.ts`))]),
);

const VISITING = 1;
const DONE = 2;
const state = new Map();
const path = [];
const cycles = [];
function visit(file) {
  state.set(file, VISITING);
  path.push(file);
  for (const next of imports.get(file) ?? []) {
    if (state.get(next) === VISITING) cycles.push([...path.slice(path.indexOf(next)), next]);
    else if (!state.has(next)) visit(next);
  }
  path.pop();
  state.set(file, DONE);
}
for (const file of files) if (!state.has(file)) visit(file);

if (cycles.length) {
  for (const cycle of cycles) console.error(`import cycle: ${cycle.map((f) => relative(root, f)).join(' -> ')}`);
  process.exit(1);
}
console.log(`lib: no import cycles (${files.length} files)`);
