// `npm run build`: embeds the Lua, then compiles lib/ twice from the same source: ESM to dist/
// and CommonJS to dist/cjs/ (Jest's CommonJS runtime and `"module": "commonjs"` apps can't load
// ESM). dist/cjs/package.json marks that folder as CommonJS inside this `"type": "module"` package.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = `${ROOT}dist`;

function tscPath() {
  try {
    return createRequire(import.meta.url).resolve('typescript/bin/tsc');
  } catch {
    console.error('TypeScript is not installed: run `npm ci` first.');
    process.exit(1);
  }
}

function run(args) {
  const result = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const tsc = tscPath();
// A clean output: a file left from a renamed source would otherwise be packed.
rmSync(DIST, { recursive: true, force: true });
run(['scripts/build-lua.mjs']);
run([tsc, '-p', 'tsconfig.build.json']);
run([tsc, '-p', 'tsconfig.build.cjs.json']);
mkdirSync(`${DIST}/cjs`, { recursive: true });
writeFileSync(`${DIST}/cjs/package.json`, `${JSON.stringify({ type: 'commonjs' })}\n`);
