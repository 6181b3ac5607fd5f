/**
 * The oldest Redis the `decide` script runs on: it reads the state that key expiries carry with
 * PEXPIRETIME, a Redis 7.0 command.
 */
export const MIN_REDIS_VERSION = '7.0';

/** `redis_version` of an `INFO server` reply, or undefined when it has none. */
export function redisVersionOf(info: string): string | undefined {
  return /^redis_version:([0-9][0-9.]*)\s*$/m.exec(info)?.[1];
}

const atLeast = (version: string, minimum: string): boolean => {
  const have = version.split('.').map(Number);
  const need = minimum.split('.').map(Number);
  for (let i = 0; i < need.length; i++) {
    const h = have[i] ?? 0;
    if (h !== need[i]) return h > need[i];
  }
  return true;
};

/** Throws, naming the version needed, when the `INFO server` text is of a Redis older than MIN_REDIS_VERSION. */
export function checkRedisVersion(info: string): void {
  const version = redisVersionOf(info);
  if (version !== undefined && !atLeast(version, MIN_REDIS_VERSION)) {
    throw new Error(`nestjs-redis-rate-limit needs Redis >= ${MIN_REDIS_VERSION} (it uses PEXPIRETIME); the server runs Redis ${version}`);
  }
}

/**
 * Runs `INFO server` through `info` and checks the version it reports (checkRedisVersion). A
 * server that refuses INFO (a proxy may) is not judged: an old one then fails every decision
 * into failMode, and logs say why.
 */
export async function assertRedisVersion(info: () => Promise<string>): Promise<void> {
  const text = await info().then(
    (reply) => reply,
    () => '',
  );
  checkRedisVersion(text);
}
