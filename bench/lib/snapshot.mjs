// One run measures one build: dist/ is copied aside when the run starts (other people may rebuild
// dist/ meanwhile), and every part of the run (this process and the HTTP children) imports the copy.
// Import this module before anything that imports the library.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function describe(dir) {
  const git = (...args) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
  let commit = 'unknown';
  try {
    const dirty = git('status', '--porcelain', '--', 'lib', 'lua');
    commit = `${git('rev-parse', '--short', 'HEAD')}${dirty ? ` + uncommitted changes in lib/ or lua/ (${dirty.split('\n').length} paths)` : ''}`;
  } catch {
    // not a git checkout
  }
  const script = readFileSync(join(dir, 'generated', 'decide-script.js'), 'utf8');
  const version = /DECIDE_SCRIPT_VERSION = '([^']+)'/.exec(script)?.[1] ?? '?';
  const built = statSync(join(dir, 'index.js')).mtime.toISOString();
  return `library commit ${commit}; dist/ built ${built}; decide script ${version}`;
}

if (!process.env.BENCH_LIB_DIR) {
  const dist = join(root, 'dist');
  if (!existsSync(join(dist, 'index.js'))) throw new Error('dist/ is missing: run `npm run bench` (it builds first)');
  // Outside the repo (so no linter or test runner sees it), with the repo's node_modules linked
  // in: bare imports resolve (through the link's real path) to the very same packages as ours.
  const base = join(tmpdir(), `nestjs-redis-rate-limit-bench-${process.pid}`);
  const copy = join(base, 'dist');
  rmSync(base, { recursive: true, force: true });
  mkdirSync(base, { recursive: true });
  // The package's name and exports map, so that the subpaths' imports of the main entry by
  // package name (`nestjs-redis-rate-limit`) resolve to this copy too (a self-reference).
  const { name, exports } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  writeFileSync(join(base, 'package.json'), `${JSON.stringify({ name, type: 'module', private: true, exports }, null, 2)}\n`);
  symlinkSync(join(root, 'node_modules'), join(base, 'node_modules'), 'dir');
  cpSync(dist, copy, { recursive: true });
  process.env.BENCH_LIB_DIR = copy;
  process.env.BENCH_LIB_INFO = describe(copy);
  process.once('exit', () => rmSync(base, { recursive: true, force: true }));
}

/** A file of the library build this run measures, as an import URL. */
export const libUrl = (file) => pathToFileURL(join(process.env.BENCH_LIB_DIR, file)).href;
export const libInfo = () => process.env.BENCH_LIB_INFO ?? 'unknown';
