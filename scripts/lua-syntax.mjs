// Lint: the composed `decide` script must parse as Lua 5.1, the Lua of Redis (`luac5.1 -p`, from
// the Debian package lua5.1). A syntax error is reported at its line in lua/*.lua.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { composeDecideScript } from './lua-compose.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { source, lines } = composeDecideScript(root);

const run = spawnSync('luac5.1', ['-p', '-'], { input: source, encoding: 'utf8' });
if (run.error) {
  console.error(
    `luac5.1 could not be run (${run.error.message}); the lint parses the Lua scripts with it.\n` +
      'Install it first, e.g. on Debian/Ubuntu: apt-get update && apt-get install -y lua5.1',
  );
  process.exit(1);
}
if (run.status !== 0) {
  // luac5.1 names the composed line: `luac5.1: stdin:<line>: <message>`.
  const message = run.stderr.trim().replace(/^luac5\.1: stdin:(\d+):/, (_, line) => `${lines[Number(line) - 1]?.at ?? `composed line ${line}`}:`);
  console.error(`The composed decide script does not parse as Lua 5.1:\n${message}`);
  process.exit(1);
}
console.log('lua: the decide script parses as Lua 5.1');
