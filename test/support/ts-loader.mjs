// A Node module-customization hook that runs the TypeScript sources directly, for the tests'
// child processes (jest transforms in-process; a child process has no jest). It compiles `.ts`
// with @swc/core using the options Jest uses (scripts/swc-typescript.mjs), maps `./x.js` imports to `./x.ts`
// when only the TypeScript exists, and maps `nestjs-redis-rate-limit` to lib/index.ts, exactly
// like jest's moduleNameMapper. Registered by test/support/ts-register.mjs:
//   node --import ./test/support/ts-register.mjs test/support/sample-process.ts
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { transform } from '@swc/core';
import { SWC_TYPESCRIPT } from '../../scripts/swc-typescript.mjs';

const root = new URL('../../', import.meta.url);
const PACKAGE = {
  'nestjs-redis-rate-limit': new URL('lib/index.ts', root).href,
  'nestjs-redis-rate-limit/terminus': new URL('lib/terminus/index.ts', root).href,
};

export async function resolve(specifier, context, nextResolve) {
  if (specifier in PACKAGE) return { url: PACKAGE[specifier], shortCircuit: true };
  if ((specifier.startsWith('./') || specifier.startsWith('../')) && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) {
    const js = new URL(specifier, context.parentURL);
    const ts = new URL(specifier.slice(0, -3) + '.ts', context.parentURL);
    if (!existsSync(fileURLToPath(js)) && existsSync(fileURLToPath(ts))) return { url: ts.href, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
  const path = fileURLToPath(url);
  const { code } = await transform(await readFile(path, 'utf8'), { filename: path, sourceMaps: 'inline', ...SWC_TYPESCRIPT });
  return { format: 'module', source: code, shortCircuit: true };
}
