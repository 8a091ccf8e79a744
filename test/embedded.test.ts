// The embedded default as a newcomer runs it: `npm start` with no configuration,
// data kept in DATA_DIR across restarts, one process per data folder, clean SIGTERM.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { devToken } from '../src/cli/dev-token.ts';
import { DEV_JWT_SECRET } from '../src/config.ts';

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

function start(dataDir: string, port: number): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  // Only what a bare machine has: no DATABASE_URL, no LiveKit, no S3, no scanner.
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' };
  Object.assign(env, { DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' });
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

async function waitHealthy(port: number, proc: { output: () => string }, ms = 150_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      if (res.ok) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`service did not become healthy:\n${proc.output()}`);
}

describe('embedded default', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'auralink-embedded-'));
  after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('starts with no configuration, refuses a second process, stops cleanly and keeps data', async () => {
    const port = await freePort();
    const first = start(dataDir, port);
    try {
      await waitHealthy(port, first);
      const token = await devToken(DEV_JWT_SECRET, 'newcomer');
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      let res = await fetch(`http://127.0.0.1:${port}/api/v1/users/me`, { headers });
      assert.equal(res.status, 200);
      res = await fetch(`http://127.0.0.1:${port}/api/v1/users/me`, {
        method: 'PUT',
        headers,
        body: JSON.stringify({ display_name: 'Kept across restarts' }),
      });
      assert.equal(res.status, 200);
      const openapi = await fetch(`http://127.0.0.1:${port}/openapi.json`);
      assert.equal(openapi.status, 200);
      assert.ok(fs.existsSync(path.join(dataDir, 'pglite.lock')));

      const second = start(dataDir, await freePort());
      const code = await second.exited;
      assert.notEqual(code, 0);
      assert.match(second.output(), /in use by process/);
    } finally {
      first.child.kill('SIGTERM');
    }
    assert.equal(await first.exited, 0, first.output());
    assert.ok(!fs.existsSync(path.join(dataDir, 'pglite.lock')), 'lock released on shutdown');

    const port2 = await freePort();
    const again = start(dataDir, port2);
    try {
      await waitHealthy(port2, again);
      const token = await devToken(DEV_JWT_SECRET, 'newcomer');
      const res = await fetch(`http://127.0.0.1:${port2}/api/v1/users/me`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal((await res.json()).display_name, 'Kept across restarts');
    } finally {
      again.child.kill('SIGTERM');
      await again.exited;
    }
  });

  it('refuses to start in production on development secrets, naming the variable', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stderr!.on('data', (d) => (out += d));
    const code = await new Promise((r) => child.on('exit', r));
    assert.equal(code, 78);
    assert.match(out, /SUPABASE_JWT_SECRET/);
  });
});
