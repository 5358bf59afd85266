import { SignJWT } from 'jose';
import { AppConfig } from '../config/app-config';
import { TokenVerifierService } from './token-verifier.service';

describe(TokenVerifierService.name, () => {
  const make = (config: Partial<AppConfig> = {}) => new TokenVerifierService(Object.assign(new AppConfig(), config));
  /** How many times the verifier went to the key, i.e. checked a signature. */
  const signatureChecks = (verifier: TokenVerifierService) => jest.spyOn(verifier as unknown as { key: () => unknown }, 'key');

  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('checks a token signature once and answers from memory after that', async () => {
    const verifier = make();
    const token = await verifier.issue('u1');
    const checks = signatureChecks(verifier);
    for (let i = 0; i < 3; i++) expect((await verifier.verify(token)).sub).toBe('u1');
    expect(checks).toHaveBeenCalledTimes(1);
  });

  it('never accepts a remembered token after its expiry', async () => {
    const verifier = make();
    const token = await verifier.issue('u1', 60);
    await verifier.verify(token);
    // Only the clock is faked (for the cache and for jose alike); timers stay real.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'clearImmediate', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'queueMicrotask', 'hrtime', 'performance'] });
    jest.setSystemTime(Date.now() + 70_000); // past exp and jose's 5 s clock tolerance
    await expect(verifier.verify(token)).rejects.toThrow(/exp/);
  });

  it('does not remember rejected tokens, and with JWT_CACHE_SIZE=0 checks every time', async () => {
    const verifier = make({ JWT_CACHE_SIZE: 0 });
    const token = await verifier.issue('u1');
    const forged = `${token.slice(0, -4)}AAAA`;
    const checks = signatureChecks(verifier);
    await expect(verifier.verify(forged)).rejects.toThrow();
    await expect(verifier.verify(forged)).rejects.toThrow();
    await verifier.verify(token);
    await verifier.verify(token);
    expect(checks).toHaveBeenCalledTimes(4);
  });

  it('keeps at most JWT_CACHE_SIZE tokens, dropping the oldest', async () => {
    const verifier = make({ JWT_CACHE_SIZE: 2 });
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((sub) => verifier.issue(sub)));
    for (const t of [a, b, c]) await verifier.verify(t);
    const checks = signatureChecks(verifier);
    await verifier.verify(c);
    await verifier.verify(b);
    expect(checks).toHaveBeenCalledTimes(0);
    await verifier.verify(a);
    expect(checks).toHaveBeenCalledTimes(1);
  });

  describe('what a token must carry', () => {
    const secret = new TextEncoder().encode(new AppConfig().JWT_SECRET);
    const sign = (build: (jwt: SignJWT) => SignJWT, alg = 'HS256', sub = 'u1') =>
      build(new SignJWT({}).setProtectedHeader({ alg }).setSubject(sub).setIssuedAt()).sign(secret);

    it('accepts what issue() mints (the demo and the simulator use it): HS256 with exp', async () => {
      const verifier = make({ JWT_MAX_LIFETIME_S: 13 * 3600 });
      expect((await verifier.verify(await verifier.issue('u1', 12 * 3600))).sub).toBe('u1');
    });

    it.each([
      ['no exp', () => sign((j) => j), /"exp" claim/],
      ['HS512 with the HS256 secret', () => sign((j) => j.setExpirationTime('10m'), 'HS512'), /alg/],
      ['a lifetime over JWT_MAX_LIFETIME_S', () => sign((j) => j.setExpirationTime('2d')), /lifetime exceeds 86400 s/],
      ['a NUL in sub', () => sign((j) => j.setExpirationTime('10m'), 'HS256', 'a\u0000'), /sub must not contain NUL/],
      ['a sub of 129 characters', () => sign((j) => j.setExpirationTime('10m'), 'HS256', 'x'.repeat(129)), /usable sub/],
    ])('refuses %s', async (_, token, message) => {
      await expect(make().verify(await token())).rejects.toThrow(message);
    });

    it('pins the configured algorithm', async () => {
      const hs512 = await sign((j) => j.setExpirationTime('10m'), 'HS512');
      expect((await make({ JWT_ALGORITHM: 'HS512' }).verify(hs512)).sub).toBe('u1');
      await expect(make({ JWT_ALGORITHM: 'HS512' }).verify(await sign((j) => j.setExpirationTime('10m')))).rejects.toThrow(/alg/);
    });
  });
});
