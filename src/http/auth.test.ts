import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { loadConfig } from '../config.ts';
import { createVerifier, VerifiedTokens } from './auth.ts';

const SECRET = 's'.repeat(48);
const SUB = '0b0f6f43-39c6-4d3c-9a51-0c3b1e7a2f10';
const hs = (claims: Record<string, unknown> = {}, exp: number | null = 600) => {
  const jwt = new SignJWT({ ...claims }).setProtectedHeader({ alg: 'HS256' }).setSubject(SUB).setIssuedAt();
  if (exp !== null) jwt.setExpirationTime(Math.floor(Date.now() / 1000) + exp);
  return jwt.sign(new TextEncoder().encode(SECRET));
};

async function rejects(p: Promise<unknown>, re: RegExp) {
  await assert.rejects(p, (e: { code?: string; message: string }) => e.code === 'UNAUTHORIZED' && re.test(e.message));
}

describe('JWT verification', () => {
  const verify = createVerifier(loadConfig({ SUPABASE_JWT_SECRET: SECRET }));

  it('accepts a Supabase-style HS256 access token and reads its profile claims', async () => {
    const user = await verify(
      await hs({ email: 'a@b.c', role: 'authenticated', user_metadata: { aura_id: '@a.aura', display_name: 'A' } }),
    );
    assert.equal(user.id, SUB);
    assert.equal(user.email, 'a@b.c');
    assert.equal(user.auraId, '@a.aura');
    assert.equal(user.displayName, 'A');
  });

  it('requires exp, refuses expired tokens and a wrong key', async () => {
    await rejects(verify(await hs({}, null)), /Invalid token/);
    await rejects(verify(await hs({}, -60)), /expired/);
    const other = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(SUB)
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('o'.repeat(48)));
    await rejects(verify(other), /Invalid token/);
  });

  it('reuses a verified token until it expires, then refuses it', async () => {
    let now = Date.now();
    const cached = createVerifier(loadConfig({ SUPABASE_JWT_SECRET: SECRET }), () => now);
    const token = await hs({}, 60);
    assert.equal((await cached(token)).id, SUB);
    assert.equal((await cached(token)).id, SUB, 'a second use is answered from the cache');
    now += 120_000; // past exp and the clock tolerance
    await rejects(cached(token), /expired/);
    await rejects(cached(token), /expired/); // and jose agrees once the entry is gone
  });

  it('keeps a bounded cache and verifies entries afresh after a while', () => {
    const cache = new VerifiedTokens(2, 1000);
    const user = (exp: number) => ({ id: SUB, email: null, auraId: null, displayName: null, username: null, claims: { exp } });
    const t0 = 1_700_000_000_000;
    const exp = t0 / 1000 + 3600;
    cache.set('a', user(exp), t0);
    cache.set('b', user(exp), t0);
    cache.set('c', user(exp), t0);
    assert.equal(cache.size, 2);
    assert.equal(cache.get('a', t0), undefined, 'the oldest entry made room');
    assert.equal(cache.get('c', t0)?.id, SUB);
    assert.equal(cache.get('c', t0 + 1001), undefined, 'past the re-verify window the token is verified again');
    cache.set('d', { ...user(exp), claims: {} }, t0);
    assert.equal(cache.get('d', t0), undefined, 'a token without exp is never cached');
  });

  it('refuses alg none and a non-UUID subject', async () => {
    const none = new UnsecuredJWT({}).setSubject(SUB).setExpirationTime('5m').encode();
    await rejects(verify(none), /algorithm|Malformed|Invalid/);
    const badSub = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('not-a-uuid')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(SECRET));
    await rejects(verify(badSub), /subject/);
  });

  it('checks the audience when configured', async () => {
    const strict = createVerifier(loadConfig({ SUPABASE_JWT_SECRET: SECRET, JWT_AUDIENCE: 'authenticated' }));
    await rejects(strict(await hs({ aud: 'other' })), /Invalid token/);
    assert.equal((await strict(await hs({ aud: 'authenticated' }))).id, SUB);
  });

  describe('with a JWKS', () => {
    let server: http.Server;
    let jwksUrl: string;
    let rsPrivate: CryptoKey;
    let rsPublicPem: string;
    let esPrivate: CryptoKey;

    before(async () => {
      const rs = await generateKeyPair('RS256', { extractable: true });
      const es = await generateKeyPair('ES256');
      rsPrivate = rs.privateKey as CryptoKey;
      esPrivate = es.privateKey as CryptoKey;
      const { exportSPKI } = await import('jose');
      rsPublicPem = await exportSPKI(rs.publicKey);
      const keys = [
        { ...(await exportJWK(rs.publicKey)), kid: 'rs', alg: 'RS256', use: 'sig' },
        { ...(await exportJWK(es.publicKey)), kid: 'es', alg: 'ES256', use: 'sig' },
      ];
      server = http.createServer((_req, res) => res.end(JSON.stringify({ keys })));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
    });
    after(() => server.close());

    it('accepts RS256 and ES256 tokens signed by a published key', async () => {
      const verifyJwks = createVerifier(loadConfig({ SUPABASE_JWT_SECRET: SECRET, JWT_JWKS_URL: jwksUrl }));
      for (const [alg, kid, key] of [['RS256', 'rs', rsPrivate], ['ES256', 'es', esPrivate]] as const) {
        const t = await new SignJWT({}).setProtectedHeader({ alg, kid }).setSubject(SUB).setExpirationTime('5m').sign(key);
        assert.equal((await verifyJwks(t)).id, SUB, alg);
      }
    });

    it('refuses algorithm confusion: HS256 signed with the RSA public key', async () => {
      const verifyJwks = createVerifier(loadConfig({ SUPABASE_JWT_SECRET: SECRET, JWT_JWKS_URL: jwksUrl }));
      const forged = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256', kid: 'rs' })
        .setSubject(SUB)
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode(rsPublicPem));
      await rejects(verifyJwks(forged), /Invalid token/);
    });

    it('in production with only a JWKS, the development HS256 secret verifies nothing', async () => {
      const prod = createVerifier(
        loadConfig({
          NODE_ENV: 'production',
          JWT_JWKS_URL: jwksUrl,
          LIVEKIT_API_KEY: 'k',
          LIVEKIT_API_SECRET: 'x'.repeat(40),
          URL_SIGNING_SECRET: 'y'.repeat(40),
          DATABASE_URL: 'postgres://db.invalid/auralink',
          S3_ENDPOINT: 'https://s3.invalid',
        }),
      );
      const { DEV_JWT_SECRET } = await import('../config.ts');
      const t = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(SUB)
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode(DEV_JWT_SECRET));
      await rejects(prod(t), /not accepted/);
    });
  });
});
