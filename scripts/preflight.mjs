// Before `npm test`: the suite starts real Redis servers, a Cluster and a Sentinel setup of its
// own, and drives the demo (behind nginx) in headless Chromium. Name everything missing at once,
// with the command that installs it, instead of failing later in some test's stack trace; and
// what `npm run lint` will need too, so one install command covers both.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Debian/Ubuntu package, the program run, what for; `lint` ones do not stop the tests. */
const NEEDED = [
  { pkg: 'redis-server', program: 'redis-server', why: 'the Redis servers the tests start' },
  { pkg: 'redis-tools', program: 'redis-cli', why: 'creating the test Cluster' },
  { pkg: 'redis-sentinel', program: 'redis-sentinel', why: 'the Sentinel tests' },
  { pkg: 'chromium', program: CHROMIUM, why: "the demo's browser test (or set CHROMIUM_PATH)" },
  { pkg: 'nginx', program: 'nginx', why: "the demo's load balancer, in its browser test" },
  { pkg: 'lua5.1', program: 'luac5.1', why: 'npm run lint (parses the Lua scripts)', lint: true },
];

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// Debian puts nginx in /usr/sbin, which is not on every user's PATH; the demo looks there too.
const SEARCHED = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin'];
const onPath = (program) => (program.includes('/') ? executable(program) : SEARCHED.some((dir) => dir && executable(join(dir, program))));

const missing = NEEDED.filter(({ program }) => !onPath(program));
if (missing.length > 0) {
  const blocking = missing.some(({ lint }) => !lint);
  const width = Math.max(...missing.map(({ program }) => program.length));
  console.error(
    `${blocking ? 'npm test needs' : 'npm test can run, but npm run lint needs'} programs that are not installed:\n` +
      missing.map(({ program, why }) => `  ${program.padEnd(width)}  ${why}`).join('\n') +
      '\nOn Debian/Ubuntu install them with:\n' +
      `  sudo apt-get update && sudo apt-get install -y ${[...new Set(missing.map(({ pkg }) => pkg))].join(' ')}`,
  );
  if (blocking) process.exit(1);
}
