import { ConflictException, Controller, Get, HttpCode, Inject, Post } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { SAMPLE_CONFIG, type SampleConfig } from '../sample-config.js';

/**
 * Pauses and resumes the demo's own redis-server (SIGSTOP, SIGCONT): Redis then stalls as a hung
 * or partitioned server does, connections open and nothing answered. Only for the process the
 * demo started, never for a Redis given by REDIS_URL.
 */
@Controller('demo/redis')
export class RedisControlController {
  constructor(@Inject(SAMPLE_CONFIG) private readonly config: SampleConfig) {}

  @Get()
  state() {
    const pid = this.config.redisPid;
    return { controllable: pid !== undefined, paused: pid !== undefined && isStopped(pid) };
  }

  @Post('pause')
  @HttpCode(200)
  pause() {
    return this.signal('SIGSTOP');
  }

  @Post('resume')
  @HttpCode(200)
  resume() {
    return this.signal('SIGCONT');
  }

  private signal(signal: 'SIGSTOP' | 'SIGCONT') {
    const pid = this.config.redisPid;
    if (pid === undefined) throw new ConflictException('this Redis was not started by the demo: it cannot be paused from here');
    process.kill(pid, signal);
    return this.state();
  }
}

/** Linux's process state ("T": stopped by a signal); elsewhere the state is not known. */
function isStopped(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'T';
  } catch {
    return false;
  }
}
