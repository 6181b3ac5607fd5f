import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { RATE_LIMIT_ENGINE, RATE_LIMIT_HEADER_WRITER, RATE_LIMIT_OPTIONS, RATE_LIMIT_POLICY_REGISTRY, RATE_LIMIT_STORE } from './rate-limit.constants.js';
import { RATE_LIMIT_MODULE_OPTIONS, RateLimitConfigurableModule } from './rate-limit.module-definition.js';
import { resolveOptions } from './options/resolved-options.js';
import { createStore } from './store/create-store.js';
import { RateLimitEngine } from './engine/rate-limit-engine.js';
import { RateLimitExplorer } from './explorer/rate-limit.explorer.js';
import { RateLimitGuard } from './guards/rate-limit.guard.js';
import { RateLimitHeaderWriter } from './headers/rate-limit-header-writer.js';
import { RateLimitPolicyRegistry } from './policy/rate-limit-policy.registry.js';
import { RateLimiterService } from './services/rate-limiter.service.js';

// What the guard injects, so that a guard of the other build (dual package) finds this module's services.
const GUARD_ALIASES = [
  { provide: RATE_LIMIT_POLICY_REGISTRY, useExisting: RateLimitPolicyRegistry },
  { provide: RATE_LIMIT_ENGINE, useExisting: RateLimitEngine },
  { provide: RATE_LIMIT_HEADER_WRITER, useExisting: RateLimitHeaderWriter },
];

/**
 * `RateLimitModule.forRoot(options)` / `forRootAsync({ useFactory | useClass | useExisting })`.
 * Import it once, in the root module.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    { provide: RATE_LIMIT_OPTIONS, useFactory: resolveOptions, inject: [RATE_LIMIT_MODULE_OPTIONS] },
    { provide: RATE_LIMIT_STORE, useFactory: createStore, inject: [RATE_LIMIT_OPTIONS] },
    RateLimitPolicyRegistry,
    RateLimitEngine,
    RateLimitHeaderWriter,
    RateLimitGuard,
    RateLimiterService,
    RateLimitExplorer,
    ...GUARD_ALIASES,
  ],
  exports: [RATE_LIMIT_OPTIONS, RATE_LIMIT_STORE, RateLimitPolicyRegistry, RateLimitEngine, RateLimitHeaderWriter, RateLimitGuard, RateLimiterService, ...GUARD_ALIASES.map((a) => a.provide)],
})
export class RateLimitModule extends RateLimitConfigurableModule {}
