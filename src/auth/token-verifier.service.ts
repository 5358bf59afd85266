import { Injectable } from '@nestjs/common';
import { createLocalJWKSet, createRemoteJWKSet, importSPKI, JWTPayload, jwtVerify, SignJWT } from 'jose';
import { textProblem } from '../common/unstorable-text';
import { AppConfig } from '../config/app-config';

type Key = Parameters<typeof jwtVerify>[1];

interface Verified {
  sub: string;
  payload: JWTPayload;
  /** Epoch ms after which the cached verdict must not be used (the token's exp, or a cap). */
  until: number;
}

/** A cached verdict is re-checked at least this often even if the token lives longer. */
const CACHE_MAX_TTL_MS = 5 * 60_000;

/** A token must end within `maxSeconds` of when it was issued, and of now (an iat in the future does not extend it). */
function lifetimeProblem(payload: JWTPayload, now: number, maxSeconds: number): string | null {
  const exp = payload.exp!;
  const nowSeconds = Math.floor(now / 1000);
  const issued = typeof payload.iat === 'number' ? Math.min(payload.iat, nowSeconds) : nowSeconds;
  return exp - issued > maxSeconds ? `token lifetime exceeds ${maxSeconds} s (JWT_MAX_LIFETIME_S)` : null;
}

/** The subject is the user id: stored in Postgres and Redis keys, so it must be short, storable text. */
function subjectProblem(sub: unknown): string | null {
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 128) return 'token has no usable sub (1-128 characters)';
  const problem = textProblem(sub);
  return problem ? `token sub ${problem}` : null;
}

/**
 * Verifies client JWTs: HS256 with JWT_SECRET by default, or a PEM public key
 * (JWT_PUBLIC_KEY) or a JWKS endpoint (JWT_JWKS_URL) when configured. One algorithm is
 * accepted (JWT_ALGORITHM); tokens must carry exp, at most JWT_MAX_LIFETIME_S ahead.
 */
@Injectable()
export class TokenVerifierService {
  private keyPromise: Promise<Key> | null = null;
  /**
   * Tokens already verified, until their expiry: a client sends the same token with every
   * request, and checking its signature costs more CPU than a whole ingest of 100 events
   * (HMAC through WebCrypto, ~60-80 µs). Oldest entries go first once JWT_CACHE_SIZE is reached.
   */
  private readonly verified = new Map<string, Verified>();

  private readonly algorithm: string;

  constructor(private readonly config: AppConfig) {
    this.algorithm = config.JWT_ALGORITHM ?? defaultAlgorithm(config);
  }

  /** Returns the token's subject, or throws if the token is not valid. */
  async verify(token: string): Promise<{ sub: string; payload: JWTPayload }> {
    const now = Date.now();
    const cached = this.verified.get(token);
    if (cached && now < cached.until) return cached;
    if (cached) this.verified.delete(token);
    const { payload } = await jwtVerify(token, await this.key(), {
      clockTolerance: 5,
      algorithms: [this.algorithm],
      requiredClaims: ['exp'],
    });
    const problem = lifetimeProblem(payload, now, this.config.JWT_MAX_LIFETIME_S) ?? subjectProblem(payload.sub);
    if (problem) throw new Error(problem);
    const result = { sub: payload.sub as string, payload };
    this.remember(token, result, now);
    return result;
  }

  private remember(token: string, result: { sub: string; payload: JWTPayload }, now: number): void {
    const max = this.config.JWT_CACHE_SIZE;
    if (max === 0) return;
    // Never past exp (jose accepted it within the 5 s clock tolerance; the cache does not extend that).
    const until = Math.min(now + CACHE_MAX_TTL_MS, result.payload.exp !== undefined ? result.payload.exp * 1000 : Infinity);
    if (until <= now) return;
    if (this.verified.size >= max) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, { ...result, until });
  }

  /** Issues an HS256 token with exp (demo mode, the simulator and tests: production tokens come from your identity provider). */
  async issue(sub: string, ttlSeconds = 3600): Promise<string> {
    return new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(sub)
      .setIssuedAt()
      .setExpirationTime(`${ttlSeconds}s`)
      .sign(new TextEncoder().encode(this.config.JWT_SECRET));
  }

  private key(): Promise<Key> {
    this.keyPromise ??= this.loadKey();
    return this.keyPromise;
  }

  private async loadKey(): Promise<Key> {
    if (this.config.JWT_JWKS_URL) return createRemoteJWKSet(new URL(this.config.JWT_JWKS_URL)) as Key;
    if (this.config.JWT_PUBLIC_KEY) {
      const pem = this.config.JWT_PUBLIC_KEY.replace(/\\n/g, '\n');
      if (pem.trim().startsWith('{')) return createLocalJWKSet({ keys: [JSON.parse(pem)] }) as Key;
      return importSPKI(pem, this.algorithm);
    }
    return new TextEncoder().encode(this.config.JWT_SECRET);
  }
}

/** Without JWT_ALGORITHM: HS256 for the secret, ES256 or RS256 by the public key's size, RS256 for a JWKS. */
function defaultAlgorithm(config: AppConfig): string {
  if (config.JWT_JWKS_URL) return 'RS256';
  if (!config.JWT_PUBLIC_KEY) return 'HS256';
  const pem = config.JWT_PUBLIC_KEY;
  return /BEGIN PUBLIC KEY/.test(pem) && pem.length < 300 ? 'ES256' : 'RS256';
}
