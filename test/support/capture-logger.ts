import type { LoggerService } from '@nestjs/common';

export interface LogEntry {
  level: 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';
  message: string;
  context: string | undefined;
}

/** A Nest logger that keeps what it is given: `app.useLogger(logger)` (it overrides every `Logger`). */
export class CaptureLogger implements LoggerService {
  readonly entries: LogEntry[] = [];

  private add(level: LogEntry['level'], message: unknown, params: unknown[]): void {
    const last = params[params.length - 1];
    this.entries.push({ level, message: String(message), context: typeof last === 'string' ? last : undefined });
  }

  log(message: unknown, ...params: unknown[]) {
    this.add('log', message, params);
  }
  error(message: unknown, ...params: unknown[]) {
    this.add('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]) {
    this.add('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]) {
    this.add('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]) {
    this.add('verbose', message, params);
  }
  fatal(message: unknown, ...params: unknown[]) {
    this.add('fatal', message, params);
  }

  /** Entries at `level` from the `RateLimit` logger, optionally containing `text`. */
  rateLimit(level: LogEntry['level'], text = ''): LogEntry[] {
    return this.entries.filter((e) => e.level === level && e.context === 'RateLimit' && e.message.includes(text));
  }

  clear(): void {
    this.entries.length = 0;
  }
}
