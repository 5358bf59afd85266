import { ExecutionContext, ForbiddenException } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { ExplainAccessGuard } from './explain-access.guard';

const KEY = 'admin-key-for-tests';
const request = (query: Record<string, string>, headers: Record<string, string> = {}) =>
  ({ switchToHttp: () => ({ getRequest: () => ({ query, headers }) }) }) as unknown as ExecutionContext;
const guard = (demo: boolean) => new ExplainAccessGuard(Object.assign(new AppConfig(), { ADMIN_API_KEY: KEY, DEMO_MODE: demo }));

describe(ExplainAccessGuard.name, () => {
  it('lets every feed request through that does not ask for an explanation', () => {
    expect(guard(false).canActivate(request({ limit: '20' }))).toBe(true);
    expect(guard(false).canActivate(request({ explain: 'false' }))).toBe(true);
  });

  it('explains for the admin key or in demo mode, and refuses anyone else', () => {
    expect(guard(false).canActivate(request({ explain: 'true' }, { 'x-api-key': KEY }))).toBe(true);
    expect(guard(true).canActivate(request({ explain: 'true' }))).toBe(true);
    expect(() => guard(false).canActivate(request({ explain: 'true' }))).toThrow(ForbiddenException);
    expect(() => guard(false).canActivate(request({ explain: '1' }, { 'x-api-key': 'admin-key-for-testz' }))).toThrow(ForbiddenException);
  });
});
