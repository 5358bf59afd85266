import { CanActivate, ExecutionContext, ForbiddenException, Injectable } from '@nestjs/common';
import { apiKeyMatches } from '../../auth/admin-api-key.guard';
import { AuthenticatedRequest } from '../../auth/jwt-auth.guard';
import { AppConfig } from '../../config/app-config';

/** `explain=true` on the feed: allowed with the admin `x-api-key`, or in DEMO_MODE; 403 otherwise. */
@Injectable()
export class ExplainAccessGuard implements CanActivate {
  private readonly expected: Buffer;
  private readonly demo: boolean;

  constructor(config: AppConfig) {
    this.expected = Buffer.from(config.ADMIN_API_KEY);
    this.demo = config.DEMO_MODE;
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest & { query?: Record<string, unknown> }>();
    const asked = request.query?.explain;
    if (asked === undefined || asked === 'false' || asked === '0' || this.demo) return true;
    if (apiKeyMatches(request.headers['x-api-key'], this.expected)) return true;
    throw new ForbiddenException('explain needs the admin x-api-key (or DEMO_MODE)');
  }
}
