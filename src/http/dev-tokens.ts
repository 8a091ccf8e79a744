// Development identities: a stable user per name and an HS256 access token for it,
// signed with the development secret. Shared by `npm run dev-token` (curl, README)
// and the web app's development sign-in, so both mint exactly the same tokens.
import crypto from 'node:crypto';
import { SignJWT } from 'jose';
import type { Config } from '../config.ts';

/** Names a development user may have: they become the AuraID `@<name>.aura`. */
export const DEV_NAME_RE = /^[a-z0-9_-]{1,32}$/i;

/** Only while the development secret verifies tokens, and never in production. */
export function devTokensAllowed(config: Config): boolean {
  return config.auth.usingDevSecret && !config.isProduction;
}

export function devUserId(name: string): string {
  // Stable per name: the same name is the same user across runs.
  const h = crypto.createHash('sha256').update(`auralink-dev-user:${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The profile claims a development token carries for `name`. */
export function devProfile(name: string) {
  return {
    user_id: devUserId(name),
    email: `${name}@example.test`,
    aura_id: `@${name}.aura`,
    display_name: name[0]!.toUpperCase() + name.slice(1),
    username: name,
  };
}

/**
 * `extraClaims` are merged into the payload; the web's development sign-in uses them
 * for the operator claim, so that operator views can be tried without an identity provider.
 */
export async function devToken(secret: string, name: string, ttlSeconds = 3600, extraClaims: Record<string, unknown> = {}): Promise<string> {
  const p = devProfile(name);
  return new SignJWT({
    ...extraClaims,
    email: p.email,
    role: 'authenticated',
    user_metadata: { aura_id: p.aura_id, display_name: p.display_name, username: p.username },
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(p.user_id)
    .setAudience('authenticated')
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(new TextEncoder().encode(secret));
}
