// Prints a signed access token for a named development user, for curl and the README.
// Refuses unless the development JWT secret is in use, so it can never mint real tokens.
// Usage: npm run dev-token -- <name> [--ttl 3600]
import 'dotenv/config';
import { loadConfig } from '../config.ts';
import { DEV_NAME_RE, devToken, devTokensAllowed } from '../http/dev-tokens.ts';

// Tests and the bench import these from here.
export { devToken, devUserId } from '../http/dev-tokens.ts';

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const name = args.find((a) => !a.startsWith('--')) ?? 'alice';
  const ttlIdx = args.indexOf('--ttl');
  const ttl = ttlIdx >= 0 ? Number(args[ttlIdx + 1]) : 3600;
  const config = loadConfig();
  if (!devTokensAllowed(config)) {
    process.stderr.write('dev-token only works with the development JWT secret (SUPABASE_JWT_SECRET unset, NODE_ENV not production).\n');
    process.exit(1);
  }
  if (!DEV_NAME_RE.test(name) || !Number.isInteger(ttl) || ttl < 1) {
    process.stderr.write('usage: npm run dev-token -- <name> [--ttl seconds]\n');
    process.exit(2);
  }
  process.stdout.write(`${await devToken(config.auth.jwtSecret, name, ttl)}\n`);
}
