import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { APP_GUARD, DiscoveryService, MetadataScanner, ModulesContainer } from '@nestjs/core';
import { RATE_LIMIT_GLOBAL_GUARD } from '../rate-limit.constants.js';
import { configError } from '../errors/rate-limit-config.error.js';
import { RateLimitPolicyRegistry } from '../policy/rate-limit-policy.registry.js';
import { isRateLimitGuard } from '../support/process-state.js';

// Nest's metadata key of @UseGuards (not exported from the package root).
const GUARDS = '__guards__';

type Handler = object;

/**
 * At start-up: compiles every handler's policies (so bad input fails before the first request),
 * refuses a second import of the module, and refuses `@RateLimit` handlers no guard can reach.
 * The app-wide guard reaches controllers, gateways and resolvers alike (Nest applies global
 * guards to all of them); hybrid microservices need `inheritAppConfig`.
 */
@Injectable()
export class RateLimitExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly modules: ModulesContainer,
    private readonly registry: RateLimitPolicyRegistry,
    @Inject(RATE_LIMIT_GLOBAL_GUARD) private readonly globalGuard: boolean,
  ) {}

  /** Whether a `RateLimitGuard` (or a subclass) guards every handler: ours, or one the app registers as `APP_GUARD`. */
  private appWide = false;

  onModuleInit(): void {
    this.refuseSecondImport();
    const providers = this.discovery.getProviders();
    // Nest keeps each APP_GUARD provider under a token of its own, `APP_GUARD (UUID: ...)`.
    this.appWide = this.globalGuard || providers.some((w) => typeof w.token === 'string' && w.token.startsWith(APP_GUARD) && isRateLimitGuard(w.metatype));
    for (const wrapper of this.discovery.getControllers()) this.explore(wrapper.metatype, true);
    for (const wrapper of providers) {
      if (wrapper.metatype && wrapper.instance && !wrapper.isAlias) this.explore(wrapper.metatype, false);
    }
  }

  private refuseSecondImport(): void {
    const own = this.constructor;
    const imports = [...this.modules.values()].filter((module) => module.providers.has(own as never));
    if (imports.length > 1) {
      throw configError(
        'RateLimitModule',
        `imported ${imports.length} times; import it once (forRoot/forRootAsync in the root module) — every import would charge each request again`,
      );
    }
  }

  private explore(classRef: unknown, controller: boolean): void {
    if (typeof classRef !== 'function' || !classRef.prototype) return;
    const prototype = classRef.prototype as Record<string, Handler>;
    for (const name of this.scanner.getAllMethodNames(prototype)) {
      const handler = prototype[name];
      const own = this.registry.hasOwnPolicies(classRef, handler);
      if (!controller && !own) continue;
      this.registry.forHandler(classRef, handler);
      if (own && !this.appWide && !this.guarded(classRef, handler)) {
        throw configError(
          `${classRef.name}.${name}`,
          'has @RateLimit but no RateLimitGuard reaches it: globalGuard is false, so add @UseGuards(RateLimitGuard) to the handler or its class',
        );
      }
    }
  }

  private guarded(classRef: object, handler: Handler): boolean {
    const guards = [...(Reflect.getMetadata(GUARDS, classRef) ?? []), ...(Reflect.getMetadata(GUARDS, handler) ?? [])];
    return guards.some(isRateLimitGuard);
  }
}
