// Prints a signed access token for a named development user, for curl and the README.
// Refuses unless the development JWT secret is in use, so it can never mint real tokens.
// Usage: npm run dev-token -- <name> [--ttl 3600]
import 'dotenv/config';
import crypto from 'node:crypto';
import { SignJWT } from 'jose';
import { loadConfig } from '../config.ts';

export function devUserId(name: string): string {
  // Stable per name: the same name is the same user across runs.
  const h = crypto.createHash('sha256').update(`auralink-dev-user:${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export async function devToken(secret: string, name: string, ttlSeconds = 3600): Promise<string> {
  const sub = devUserId(name);
  return new SignJWT({
    email: `${name}@example.test`,
    role: 'authenticated',
    user_metadata: { aura_id: `@${name}.aura`, display_name: name[0]!.toUpperCase() + name.slice(1), username: name },
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setAudience('authenticated')
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(new TextEncoder().encode(secret));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const name = args.find((a) => !a.startsWith('--')) ?? 'alice';
  const ttlIdx = args.indexOf('--ttl');
  const ttl = ttlIdx >= 0 ? Number(args[ttlIdx + 1]) : 3600;
  const config = loadConfig();
  if (!config.auth.usingDevSecret || config.isProduction) {
    process.stderr.write('dev-token only works with the development JWT secret (SUPABASE_JWT_SECRET unset, NODE_ENV not production).\n');
    process.exit(1);
  }
  if (!/^[a-z0-9_-]{1,32}$/i.test(name) || !Number.isInteger(ttl) || ttl < 1) {
    process.stderr.write('usage: npm run dev-token -- <name> [--ttl seconds]\n');
    process.exit(2);
  }
  process.stdout.write(`${await devToken(config.auth.jwtSecret, name, ttl)}\n`);
}
