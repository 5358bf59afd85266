import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { AuthenticatedRequest } from './jwt-auth.guard';

/** Requires `x-api-key: <ADMIN_API_KEY>` (compared in constant time). */
@Injectable()
export class AdminApiKeyGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(config: AppConfig) {
    this.expected = Buffer.from(config.ADMIN_API_KEY);
  }

  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<AuthenticatedRequest>().headers['x-api-key'];
    const given = Buffer.from(typeof header === 'string' ? header : '');
    if (given.length !== this.expected.length || !timingSafeEqual(given, this.expected)) {
      throw new UnauthorizedException('missing or invalid x-api-key');
    }
    return true;
  }
}
