import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { RateLimitModule } from 'nestjs-redis-rate-limit';
import { RateLimitHealthIndicator } from 'nestjs-redis-rate-limit/terminus';
import { AppController } from './app.controller.js';
import { HealthController } from './health.controller.js';

@Module({
  imports: [RateLimitModule.forRoot({ redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }), TerminusModule],
  controllers: [AppController, HealthController],
  providers: [RateLimitHealthIndicator],
})
export class AppModule {}
