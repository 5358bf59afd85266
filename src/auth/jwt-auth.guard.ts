import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { TokenVerifierService } from './token-verifier.service';

export interface AuthenticatedRequest {
  headers: Record<string, string | string[] | undefined>;
  user?: { id: string };
}

/** Requires `Authorization: Bearer <JWT>`; the token's subject becomes `request.user.id`. */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(private readonly verifier: TokenVerifierService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match) throw new UnauthorizedException('missing bearer token');
    try {
      const { sub } = await this.verifier.verify(match[1]);
      request.user = { id: sub };
      return true;
    } catch {
      throw new UnauthorizedException('invalid or expired token');
    }
  }
}
