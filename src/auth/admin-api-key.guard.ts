import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { AuthenticatedRequest } from './jwt-auth.guard';

/** True when an `x-api-key` header value equals the expected key (compared in constant time). */
export function apiKeyMatches(header: unknown, expected: Buffer): boolean {
  const given = Buffer.from(typeof header === 'string' ? header : '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Requires `x-api-key: <ADMIN_API_KEY>` (compared in constant time). */
@Injectable()
export class AdminApiKeyGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(config: AppConfig) {
    this.expected = Buffer.from(config.ADMIN_API_KEY);
  }

  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<AuthenticatedRequest>().headers['x-api-key'];
    if (!apiKeyMatches(header, this.expected)) throw new UnauthorizedException('missing or invalid x-api-key');
    return true;
  }
}
