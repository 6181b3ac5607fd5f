import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { RateLimit } from 'nestjs-redis-rate-limit';
import { apiKeyOf } from '../api/api-key.js';
import { SAMPLE_CONFIG, type SampleConfig } from '../sample-config.js';
import { maxTokensOf } from './max-tokens.js';
import { complete, type Usage } from './stand-in-model.js';

export const TOKENS_PER_MINUTE = 2000;

/**
 * Tokens known only after the call: a request reserves the `maxTokens` it asks for, and the
 * usage the model reports replaces the reservation (the rest is given back; a model that used
 * more would be charged the difference).
 */
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
    // A failed call used nothing; otherwise what the model reports.
    settle: ({ value, error }) => (error ? 0 : (value as { usage: Usage }).usage.totalTokens),
    tracker: apiKeyOf,
  })
  complete(@Body() body: unknown) {
    const prompt = String((body as { prompt?: unknown } | undefined)?.prompt ?? '');
    const { text, usage } = complete(prompt, maxTokensOf(body));
    return { instance: this.config.instanceName, completion: text, usage };
  }
}
