// The tests start their own redis-server processes: fail early, and say how to get one.
import { spawnSync } from 'node:child_process';

const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
if (probe.error || probe.status !== 0) {
  console.error(
    'redis-server was not found on PATH. The tests start real Redis servers of their own.\n' +
      'Install it first, e.g. on Debian/Ubuntu: apt-get update && apt-get install -y redis-server',
  );
  process.exit(1);
}
