import { Injectable } from '@nestjs/common';
import { createLocalJWKSet, createRemoteJWKSet, importSPKI, JWTPayload, jwtVerify, SignJWT } from 'jose';
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

/**
 * Verifies client JWTs: HS256 with JWT_SECRET by default, or a PEM public key
 * (JWT_PUBLIC_KEY) or a JWKS endpoint (JWT_JWKS_URL) when configured.
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

  constructor(private readonly config: AppConfig) {}

  /** Returns the token's subject, or throws if the token is not valid. */
  async verify(token: string): Promise<{ sub: string; payload: JWTPayload }> {
    const now = Date.now();
    const cached = this.verified.get(token);
    if (cached && now < cached.until) return cached;
    if (cached) this.verified.delete(token);
    const { payload } = await jwtVerify(token, await this.key(), { clockTolerance: 5 });
    if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 128) {
      throw new Error('token has no usable sub');
    }
    const result = { sub: payload.sub, payload };
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

  /** Issues an HS256 token (demo mode and tests only: production tokens come from your identity provider). */
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
      const alg = /BEGIN PUBLIC KEY/.test(pem) && pem.length < 300 ? 'ES256' : 'RS256';
      return importSPKI(pem, alg);
    }
    return new TextEncoder().encode(this.config.JWT_SECRET);
  }
}
