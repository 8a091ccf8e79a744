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
  /** Set only from a token that passed verification (see createVerifier). */
  operator?: boolean;
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

/**
 * Whether verified claims make their user an operator: the configured claim equals
 * the value (or, as a list, contains it), or the user id is listed. Only ever called
 * on the payload jose has verified; an unverifiable token never gets this far.
 */
export function isOperator(payload: JWTPayload, userId: string, ops: Config['operators']): boolean {
  if (ops.userIds.includes(userId)) return true;
  if (!ops.claimPath) return false;
  let v: unknown = payload;
  for (const seg of ops.claimPath) {
    if (!v || typeof v !== 'object' || Array.isArray(v) || !Object.hasOwn(v, seg)) return false;
    v = (v as Record<string, unknown>)[seg];
  }
  return v === ops.claimValue || (Array.isArray(v) && v.includes(ops.claimValue));
}

const CLOCK_TOLERANCE_S = 5;

/**
 * Tokens already verified, so that a client's every request does not pay for the
 * signature again. Keyed by the whole token (the exact bytes that were verified);
 * expiry is checked on every use, and an entry is verified afresh after `reverifyMs`
 * (a key removed from the JWKS stops its tokens within that time). Bounded: the
 * oldest entry goes when full.
 */
export class VerifiedTokens {
  private readonly entries = new Map<string, { user: AuthUser; exp: number; at: number }>();
  constructor(
    private readonly max = 10_000,
    private readonly reverifyMs = 60_000,
  ) {}

  /** The cached user; throws when the token has expired since; undefined when it must be verified. */
  get(token: string, nowMs: number): AuthUser | undefined {
    const e = this.entries.get(token);
    if (!e) return undefined;
    if (Math.floor(nowMs / 1000) - CLOCK_TOLERANCE_S >= e.exp) {
      this.entries.delete(token);
      throw unauthorized('Token expired');
    }
    if (nowMs - e.at > this.reverifyMs) {
      this.entries.delete(token);
      return undefined;
    }
    return e.user;
  }

  set(token: string, user: AuthUser, nowMs: number): void {
    if (typeof user.claims.exp !== 'number') return;
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(token, { user, exp: user.claims.exp, at: nowMs });
  }

  get size(): number {
    return this.entries.size;
  }
}

export function createVerifier(config: Config, clock: () => number = Date.now): Verifier {
  // In production the development secret never verifies anything (JWKS-only setups).
  const hsKey =
    config.isProduction && config.auth.usingDevSecret ? null : new TextEncoder().encode(config.auth.jwtSecret);
  const jwks = config.auth.jwksUrl ? createRemoteJWKSet(new URL(config.auth.jwksUrl)) : null;
  const common = {
    requiredClaims: ['exp', 'sub'],
    clockTolerance: CLOCK_TOLERANCE_S,
    ...(config.auth.audience ? { audience: config.auth.audience } : {}),
    ...(config.auth.issuer ? { issuer: config.auth.issuer } : {}),
  };

  const verified = new VerifiedTokens();
  const withRole = (payload: JWTPayload): AuthUser => {
    const user = toAuthUser(payload);
    return { ...user, operator: isOperator(payload, user.id, config.operators) };
  };
  const verifyOnce = async (token: string): Promise<AuthUser> => {
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw unauthorized('Malformed token');
    }
    try {
      if (alg === 'HS256' && hsKey) {
        const { payload } = await jwtVerify(token, hsKey, { ...common, currentDate: new Date(clock()), algorithms: ['HS256'] });
        return withRole(payload);
      }
      if (alg && ASYMMETRIC.includes(alg) && jwks) {
        const { payload } = await jwtVerify(token, jwks, { ...common, currentDate: new Date(clock()), algorithms: ASYMMETRIC });
        return withRole(payload);
      }
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_JWT_EXPIRED') throw unauthorized('Token expired');
      if ((err as { name?: string }).name === 'AppError') throw err;
      throw unauthorized('Invalid token');
    }
    throw unauthorized('Token algorithm not accepted');
  };
  return async (token: string) => {
    const cached = verified.get(token, clock());
    if (cached) return cached;
    const user = await verifyOnce(token);
    verified.set(token, user, clock());
    return user;
  };
}

/**
 * Extracts the token from "Authorization: Bearer <jwt>"; null when there is no header.
 * The scheme name is case-insensitive (RFC 7235 §2.1): "bearer" and "BEARER" count.
 */
export function bearerToken(header: string | undefined): string | null {
  if (header === undefined) return null;
  const m = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/i.exec(header.trim());
  if (!m) throw unauthorized('Authorization header must be "Bearer <token>"');
  return m[1]!;
}
