// Access tokens for the operator tests: an operator by claim, and the tokens that must
// never become one (forged, expired, unsigned, the claim in user-editable metadata).
import { SignJWT } from 'jose';
import { devProfile } from '../../src/http/dev-tokens.ts';

export interface TokenSpec {
  secret: string;
  name: string;
  appMetadata?: Record<string, unknown>;
  userMetadata?: Record<string, unknown>;
  /** Seconds from now; negative for a token that has expired. */
  expiresIn?: number;
}

export async function signToken(s: TokenSpec): Promise<string> {
  const p = devProfile(s.name);
  return new SignJWT({
    email: p.email,
    role: 'authenticated',
    user_metadata: { display_name: p.display_name, aura_id: p.aura_id, ...s.userMetadata },
    ...(s.appMetadata ? { app_metadata: s.appMetadata } : {}),
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(p.user_id)
    .setAudience('authenticated')
    .setIssuedAt(Math.floor(Date.now() / 1000) - 3600)
    .setExpirationTime(Math.floor(Date.now() / 1000) + (s.expiresIn ?? 3600))
    .sign(new TextEncoder().encode(s.secret));
}

/** An unsigned ("alg": "none") token carrying the operator claim. */
export function unsignedOperatorToken(name: string): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const p = devProfile(name);
  return `${enc({ alg: 'none', typ: 'JWT' })}.${enc({ sub: p.user_id, exp: Math.floor(Date.now() / 1000) + 3600, app_metadata: { role: 'operator' } })}.`;
}

export const bearerOf = (token: string) => ({ authorization: `Bearer ${token}` });
