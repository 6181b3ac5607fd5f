import { Body, Controller, HttpCode, Inject, Post, UnauthorizedException } from '@nestjs/common';
import { RateLimit, RateLimiterService } from 'nestjs-redis-rate-limit';
import { SAMPLE_CONFIG, type SampleConfig } from '../sample-config.js';
import { AuthService } from './auth.service.js';
import { LOGIN_POLICY, loginKey } from './login.policy.js';

interface LoginBody {
  username?: unknown;
  password?: unknown;
}

@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly rateLimiter: RateLimiterService,
    @Inject(SAMPLE_CONFIG) private readonly config: SampleConfig,
  ) {}

  /** Only failed attempts count; a successful one also forgives the failed ones before it. */
  @Post('login')
  @HttpCode(200)
  @RateLimit(LOGIN_POLICY)
  async login(@Body() body: LoginBody) {
    if (!this.auth.verify(body.username, body.password)) throw new UnauthorizedException('Invalid username or password');
    await this.rateLimiter.reset(loginKey(body.username), LOGIN_POLICY);
    return { instance: this.config.instanceName, user: body.username };
  }
}
