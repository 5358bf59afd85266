import { SkipThrottle } from '@nestjs/throttler';
import { IP_THROTTLER, USER_THROTTLER } from './client-throttler.guard';

/** Exempts a controller or route from every rate limit (probes, scrapes). */
export const SkipRateLimits = () => SkipThrottle({ [IP_THROTTLER]: true, [USER_THROTTLER]: true });
