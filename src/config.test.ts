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
      DATABASE_URL: 'postgres://app@db.internal:5432/auralink',
      S3_ENDPOINT: 'https://s3.internal',
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

  it('reports every problem at once, each naming its variable', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (e) {
        assert.ok(e instanceof ConfigError);
        return e.problems.map((p) => p.variable);
      }
      assert.fail('loadConfig accepted a bad environment');
    };
    // Development stops on bad values too, with all of them.
    assert.deepEqual(problems({ PORT: 'eighty', LOG_LEVEL: 'loud', MIGRATE_ON_START: 'maybe' }), [
      'PORT',
      'LOG_LEVEL',
      'MIGRATE_ON_START',
    ]);
    // A bare production start: every development secret, the database and the storage.
    assert.deepEqual(problems({ NODE_ENV: 'production' }).sort(), [
      'DATABASE_URL',
      'LIVEKIT_API_KEY',
      'LIVEKIT_API_SECRET',
      'STORAGE_BACKEND',
      'SUPABASE_JWT_SECRET',
      'URL_SIGNING_SECRET',
    ]);
    // A malformed DATABASE_URL is reported once, as malformed, not also as missing.
    const bad = problems({ NODE_ENV: 'production', DATABASE_URL: 'mysql://x', PORT: '-1' });
    assert.equal(bad.filter((v) => v === 'DATABASE_URL').length, 1);
    assert.ok(bad.includes('PORT'));
    const err = (() => {
      try {
        loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'mysql://x' });
      } catch (e) {
        return e as ConfigError;
      }
    })()!;
    assert.equal(err.lines().length, err.problems.length);
    for (const line of err.lines()) assert.match(line, /^Invalid configuration: [A-Z0-9_]+ /);
  });

  it('refuses the embedded database and disk storage in production unless allowed by name', () => {
    const secrets = {
      NODE_ENV: 'production',
      SUPABASE_JWT_SECRET: 'x'.repeat(40),
      LIVEKIT_API_KEY: 'prodkey',
      LIVEKIT_API_SECRET: 'y'.repeat(40),
      URL_SIGNING_SECRET: 'z'.repeat(40),
    };
    assert.throws(() => loadConfig(secrets), /DATABASE_URL is required[^\n]*ALLOW_EMBEDDED_DATABASE=true/);
    assert.throws(() => loadConfig(secrets), /STORAGE_BACKEND is disk[^\n]*ALLOW_DISK_STORAGE=true/);
    const allowed = loadConfig({ ...secrets, ALLOW_EMBEDDED_DATABASE: 'true', ALLOW_DISK_STORAGE: 'true' });
    assert.equal(allowed.database.url, null);
    assert.equal(allowed.storage.backend, 'disk');
    // Outside production the embedded modes need no permission.
    assert.equal(loadConfig({ NODE_ENV: 'development' }).database.url, null);
    assert.throws(() => loadConfig({ ALLOW_DISK_STORAGE: 'sure' }), /ALLOW_DISK_STORAGE must be true or false/);
  });

  it('binds loopback in development and every interface in production, unless HOST says otherwise', () => {
    assert.equal(loadConfig({}).host, '127.0.0.1');
    assert.equal(loadConfig({ NODE_ENV: 'test' }).host, '127.0.0.1');
    assert.equal(loadConfig({ HOST: '0.0.0.0' }).host, '0.0.0.0');
    const prod = loadConfig({
      NODE_ENV: 'production',
      SUPABASE_JWT_SECRET: 'x'.repeat(40),
      LIVEKIT_API_KEY: 'prodkey',
      LIVEKIT_API_SECRET: 'y'.repeat(40),
      URL_SIGNING_SECRET: 'z'.repeat(40),
      DATABASE_URL: 'postgres://app@db.internal:5432/auralink',
      STORAGE_URL: 'https://project.supabase.co/storage/v1/s3',
    });
    assert.equal(prod.host, '0.0.0.0');
    assert.equal(prod.storage.endpointVariable, 'STORAGE_URL');
  });

  it('picks S3 when an endpoint is configured', () => {
    const c = loadConfig({ S3_ENDPOINT: 'http://127.0.0.1:9000/' });
    assert.equal(c.storage.backend, 's3');
    assert.equal(c.storage.endpoint, 'http://127.0.0.1:9000');
  });
});
