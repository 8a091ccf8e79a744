import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, DEV_JWT_SECRET, loadConfig } from './config.ts';

describe('config', () => {
  it('has working embedded defaults', () => {
    const c = loadConfig({});
    assert.equal(c.port, 8080);
    assert.equal(c.database.url, null);
    assert.equal(c.storage.backend, 'disk');
    assert.equal(c.scanner.enabled, false);
    assert.equal(c.auth.usingDevSecret, true);
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.database));
  });

  it('names the variable of a bad value', () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ PORT: 'eighty' }, 'PORT'],
      [{ PORT: '70000' }, 'PORT'],
      [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
      [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
      [{ SUPABASE_JWT_SECRET: 'short' }, 'SUPABASE_JWT_SECRET'],
      [{ MIGRATE_ON_START: 'maybe' }, 'MIGRATE_ON_START'],
      [{ SCAN_ENABLED: 'true' }, 'SCAN_ENABLED'],
      [{ STORAGE_BACKEND: 'ftp' }, 'STORAGE_BACKEND'],
    ];
    for (const [env, name] of cases) {
      assert.throws(() => loadConfig(env), (e: unknown) => e instanceof ConfigError && e.variable === name, name);
    }
  });

  it('refuses development secrets in production', () => {
    assert.throws(() => loadConfig({ NODE_ENV: 'production' }), (e: unknown) => e instanceof ConfigError);
    const real = {
      NODE_ENV: 'production',
      SUPABASE_JWT_SECRET: 'x'.repeat(40),
      LIVEKIT_API_KEY: 'prodkey',
      LIVEKIT_API_SECRET: 'y'.repeat(40),
      URL_SIGNING_SECRET: 'z'.repeat(40),
    };
    assert.equal(loadConfig(real).isProduction, true);
    assert.throws(() => loadConfig({ ...real, SUPABASE_JWT_SECRET: DEV_JWT_SECRET }), /SUPABASE_JWT_SECRET/);
    assert.throws(() => loadConfig({ ...real, LIVEKIT_API_KEY: 'devkey' }), /LIVEKIT_API_KEY/);
  });

  it('defaults to the key pair of `livekit-server --dev`, in development only', () => {
    const dev = loadConfig({});
    assert.deepEqual([dev.livekit.apiKey, dev.livekit.apiSecret], ['devkey', 'secret']);
    assert.equal(loadConfig({ LIVEKIT_API_SECRET: 'secret' }).livekit.apiSecret, 'secret');
    // only the development default itself is exempt from the length rule
    assert.throws(() => loadConfig({ LIVEKIT_API_SECRET: 'secret2' }), /LIVEKIT_API_SECRET must be at least 32/);
    const prod = { NODE_ENV: 'production', SUPABASE_JWT_SECRET: 'x'.repeat(40), LIVEKIT_API_KEY: 'prodkey', URL_SIGNING_SECRET: 'z'.repeat(40) };
    assert.throws(() => loadConfig(prod), /LIVEKIT_API_SECRET is the development default/);
    assert.throws(() => loadConfig({ ...prod, LIVEKIT_API_SECRET: 'secret' }), /LIVEKIT_API_SECRET is the development default/);
  });

  it('picks S3 when an endpoint is configured', () => {
    const c = loadConfig({ S3_ENDPOINT: 'http://127.0.0.1:9000/' });
    assert.equal(c.storage.backend, 's3');
    assert.equal(c.storage.endpoint, 'http://127.0.0.1:9000');
  });
});
