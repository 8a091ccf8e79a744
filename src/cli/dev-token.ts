// Prints a signed access token for a named development user, for curl and the README.
// Refuses unless the development JWT secret is in use, so it can never mint real tokens.
// Usage: npm run dev-token -- <name> [--ttl 3600]
import 'dotenv/config';
import { ConfigError, loadConfig, nodeEnvOf } from '../config.ts';
import { DEV_NAME_RE, devToken, devTokensAllowed } from '../http/dev-tokens.ts';

// Tests and the bench import these from here.
export { devToken, devUserId } from '../http/dev-tokens.ts';

function refuse(why: string): never {
  process.stderr.write(`dev-token refuses: ${why}.\n`);
  process.exit(1);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const name = args.find((a) => !a.startsWith('--')) ?? 'alice';
  const ttlIdx = args.indexOf('--ttl');
  const ttl = ttlIdx >= 0 ? Number(args[ttlIdx + 1]) : 3600;
  // Production is refused before its configuration is read: a production
  // environment that is also incomplete must still get this one line, not a list.
  if (nodeEnvOf() === 'production') {
    refuse('NODE_ENV=production, and development tokens are never minted for a production deployment');
  }
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(78);
  }
  if (!devTokensAllowed(config)) {
    refuse('SUPABASE_JWT_SECRET is set to a real secret, and dev-token signs only with the development secret (unset SUPABASE_JWT_SECRET for local development)');
  }
  if (!DEV_NAME_RE.test(name) || !Number.isInteger(ttl) || ttl < 1) {
    process.stderr.write('usage: npm run dev-token -- <name> [--ttl seconds]\n');
    process.exit(2);
  }
  process.stdout.write(`${await devToken(config.auth.jwtSecret, name, ttl)}\n`);
}
