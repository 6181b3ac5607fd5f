import { Controller, Get } from '@nestjs/common';
import { RateLimit } from 'nestjs-redis-rate-limit';

@Controller()
export class AppController {
  @Get()
  @RateLimit({ limit: 2, window: '1m' })
  getHello(): string {
    return 'Hello World!';
  }
}
