import { Injectable } from '@nestjs/common';
import { createLocalJWKSet, createRemoteJWKSet, importSPKI, JWTPayload, jwtVerify, SignJWT } from 'jose';
import { AppConfig } from '../config/app-config';

type Key = Parameters<typeof jwtVerify>[1];

/**
 * Verifies client JWTs: HS256 with JWT_SECRET by default, or a PEM public key
 * (JWT_PUBLIC_KEY) or a JWKS endpoint (JWT_JWKS_URL) when configured.
 */
@Injectable()
export class TokenVerifierService {
  private keyPromise: Promise<Key> | null = null;

  constructor(private readonly config: AppConfig) {}

  /** Returns the token's subject, or throws if the token is not valid. */
  async verify(token: string): Promise<{ sub: string; payload: JWTPayload }> {
    const { payload } = await jwtVerify(token, await this.key(), { clockTolerance: 5 });
    if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 128) {
      throw new Error('token has no usable sub');
    }
    return { sub: payload.sub, payload };
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
