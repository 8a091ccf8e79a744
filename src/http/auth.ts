// Bearer JWT verification with jose. HS256 with the shared secret (Supabase access
// tokens as they are), RS256/ES256 through JWKS when configured. The algorithm list
// is fixed per key type, so "none" and HS/RS confusion are refused by construction.
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import type { Config } from '../config.ts';
import { unauthorized } from '../errors.ts';
import { UUID_RE } from './pagination.ts';

export interface AuthUser {
  id: string;
  email: string | null;
  auraId: string | null;
  displayName: string | null;
  username: string | null;
  claims: JWTPayload;
}

export type Verifier = (token: string) => Promise<AuthUser>;

const ASYMMETRIC = ['RS256', 'ES256'];

function claimString(v: unknown, max = 320): string | null {
  return typeof v === 'string' && v.length > 0 && v.length <= max ? v : null;
}

export function toAuthUser(payload: JWTPayload): AuthUser {
  if (typeof payload.sub !== 'string' || !UUID_RE.test(payload.sub)) throw unauthorized('Token subject is not a user id');
  const meta = (payload.user_metadata ?? {}) as Record<string, unknown>;
  return {
    id: payload.sub.toLowerCase(),
    email: claimString(payload.email),
    auraId: claimString(meta.aura_id, 64),
    displayName: claimString(meta.display_name ?? meta.full_name ?? meta.name, 255),
    username: claimString(meta.username, 64),
    claims: payload,
  };
}

export function createVerifier(config: Config): Verifier {
  // In production the development secret never verifies anything (JWKS-only setups).
  const hsKey =
    config.isProduction && config.auth.usingDevSecret ? null : new TextEncoder().encode(config.auth.jwtSecret);
  const jwks = config.auth.jwksUrl ? createRemoteJWKSet(new URL(config.auth.jwksUrl)) : null;
  const common = {
    requiredClaims: ['exp', 'sub'],
    clockTolerance: 5,
    ...(config.auth.audience ? { audience: config.auth.audience } : {}),
    ...(config.auth.issuer ? { issuer: config.auth.issuer } : {}),
  };

  return async (token: string) => {
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw unauthorized('Malformed token');
    }
    try {
      if (alg === 'HS256' && hsKey) {
        const { payload } = await jwtVerify(token, hsKey, { ...common, algorithms: ['HS256'] });
        return toAuthUser(payload);
      }
      if (alg && ASYMMETRIC.includes(alg) && jwks) {
        const { payload } = await jwtVerify(token, jwks, { ...common, algorithms: ASYMMETRIC });
        return toAuthUser(payload);
      }
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_JWT_EXPIRED') throw unauthorized('Token expired');
      if ((err as { name?: string }).name === 'AppError') throw err;
      throw unauthorized('Invalid token');
    }
    throw unauthorized('Token algorithm not accepted');
  };
}

/** Extracts the token from "Authorization: Bearer <jwt>"; null when there is no header. */
export function bearerToken(header: string | undefined): string | null {
  if (header === undefined) return null;
  const m = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/.exec(header.trim());
  if (!m) throw unauthorized('Authorization header must be "Bearer <token>"');
  return m[1]!;
}
