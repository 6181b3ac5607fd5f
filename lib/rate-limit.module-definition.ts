import { ConfigurableModuleBuilder, type Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { RateLimitModuleOptions } from './interfaces/rate-limit-module-options.interface.js';
import { RATE_LIMIT_GLOBAL_GUARD } from './rate-limit.constants.js';
import { RateLimitGuard } from './guards/rate-limit.guard.js';

export interface RateLimitModuleExtras {
  /** Make the module's providers visible everywhere (default true). */
  isGlobal?: boolean;
  /** Register `RateLimitGuard` as an app-wide guard (default true). */
  globalGuard?: boolean;
}

export const {
  ConfigurableModuleClass: RateLimitConfigurableModule,
  MODULE_OPTIONS_TOKEN: RATE_LIMIT_MODULE_OPTIONS,
} = new ConfigurableModuleBuilder<RateLimitModuleOptions>({ moduleName: 'RateLimit' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createRateLimitOptions')
  .setExtras<RateLimitModuleExtras>({ isGlobal: true, globalGuard: true }, (definition, extras) => {
    const providers: Provider[] = [{ provide: RATE_LIMIT_GLOBAL_GUARD, useValue: extras.globalGuard !== false }];
    if (extras.globalGuard !== false) providers.push({ provide: APP_GUARD, useClass: RateLimitGuard });
    return { ...definition, global: extras.isGlobal !== false, providers: [...(definition.providers ?? []), ...providers] };
  })
  .build();
