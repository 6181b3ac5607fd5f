import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { RateLimit } from 'nestjs-redis-rate-limit';
import { apiKeyOf } from '../api/api-key.js';
import { SAMPLE_CONFIG, type SampleConfig } from '../sample-config.js';
import { maxTokensOf } from './max-tokens.js';

export const TOKENS_PER_MINUTE = 2000;

/** Weighted cost: a request takes as many units as the tokens it asks for. */
@Controller('llm')
export class CompletionsController {
  constructor(@Inject(SAMPLE_CONFIG) private readonly config: SampleConfig) {}

  @Post('completions')
  @HttpCode(200)
  @RateLimit({
    name: 'tokens',
    algorithm: 'token-bucket',
    limit: TOKENS_PER_MINUTE,
    window: '1m',
    cost: (context) => maxTokensOf(context.switchToHttp().getRequest<{ body: unknown }>().body),
    tracker: apiKeyOf,
  })
  complete(@Body() body: unknown) {
    const tokens = maxTokensOf(body);
    return { instance: this.config.instanceName, tokens, completion: 'lorem '.repeat(Math.min(tokens, 16)).trim() };
  }
}
