import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  ThrottlerLimitDetail,
  type ThrottlerModuleOptions,
  type ThrottlerRequest,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import { TokenVerifierService } from '../auth/token-verifier.service';

export const IP_THROTTLER = 'ip';
export const USER_THROTTLER = 'user';

/**
 * Two budgets per request: one per client IP (every request) and one per user (the
 * subject of a valid bearer token; requests without one count against their IP only).
 * A refused request gets 429 with `Retry-After` in seconds.
 */
@Injectable()
export class ClientThrottlerGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly verifier: TokenVerifierService,
  ) {
    super(options, storage, reflector);
  }

  protected override async handleRequest(props: ThrottlerRequest): Promise<boolean> {
    if (props.throttler.name !== USER_THROTTLER) return super.handleRequest(props);
    const subject = await this.subjectOf(props.context);
    if (subject === null) return true;
    return super.handleRequest({ ...props, getTracker: () => subject });
  }

  /** One budget per client across all routes (the default would count each route separately). */
  protected override generateKey(_context: ExecutionContext, tracker: string, throttlerName: string): string {
    return `${throttlerName}:${tracker}`;
  }

  protected override async throwThrottlingException(context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const { res } = this.getRequestResponse(context);
    res.header('Retry-After', String(Math.max(1, detail.timeToBlockExpire)));
    await super.throwThrottlingException(context, detail);
  }

  /** The verified token subject, or null (no token or an invalid one: the auth guard answers that). */
  private async subjectOf(context: ExecutionContext): Promise<string | null> {
    const header = context.switchToHttp().getRequest<{ headers: Record<string, unknown> }>().headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match) return null;
    try {
      return (await this.verifier.verify(match[1])).sub;
    } catch {
      return null;
    }
  }
}
