import { SetMetadata } from '@nestjs/common';
import { SKIP_RATE_LIMIT } from '../rate-limit.constants.js';

/** Skips the named policies on a controller or handler; with no names, skips them all. */
export const SkipRateLimit = (...names: string[]) => SetMetadata(SKIP_RATE_LIMIT, names.length ? names : true);
