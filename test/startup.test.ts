// The real process at start (`node --import tsx src/main.ts`), with the environments an
// operator gets wrong: every configuration error in one run (exit 78), the embedded
// modes refused in production unless allowed by name (then a warning), an unreachable
// database, S3 or LiveKit as one line naming its variable and address (exit 69, no
// stack trace), development bound to loopback, and dev-token refusing production.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, postgresAvailable, type TestDatabase } from './helpers/db.ts';
import { freePort } from './helpers/instances.ts';
import { serviceSkip } from './helpers/services.ts';

const PROD_SECRETS = {
  NODE_ENV: 'production',
  SUPABASE_JWT_SECRET: 'startup-test-jwt-secret-0123456789abcdef',
  LIVEKIT_API_KEY: 'startup-test-key',
  LIVEKIT_API_SECRET: 'startup-test-livekit-secret-0123456789',
  URL_SIGNING_SECRET: 'startup-test-signing-secret-0123456789',
};

interface Run {
  code: number | null;
  out: string;
}

/** Runs a script of the service with only `env` (no inherited configuration) until it exits. */
function runToExit(script: string, env: Record<string, string>, args: string[] = [], timeoutMs = 40_000): Promise<Run> {
  const child = spawn(process.execPath, ['--no-warnings', '--import', 'tsx', script, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not exit within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

interface Started {
  output(): string;
  running(): boolean;
  /** Resolves when the output matches, rejects when the process exits first or time runs out. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

function startServer(env: Record<string, string>): Started {
  const child = spawn(process.execPath, ['--no-warnings', '--import', 'tsx', 'src/main.ts'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  return {
    output: () => out,
    running: () => !gone(),
    async waitFor(re, timeoutMs = 40_000) {
      const deadline = Date.now() + timeoutMs;
      while (!re.test(out)) {
        if (gone()) throw new Error(`exited (${child.exitCode ?? child.signalCode}) before ${re}:\n${out}`);
        if (Date.now() > deadline) throw new Error(`no ${re} within ${timeoutMs} ms:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      if (gone()) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** The lines of a failed start: each must name a variable, none may be a stack frame. */
function assertNoTrace(out: string): void {
  assert.doesNotMatch(out, /^\s+at /m, `a stack trace was printed:\n${out}`);
  assert.doesNotMatch(out, /Failed to start/, out);
}

async function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.setTimeout(2000, () => (s.destroy(), resolve(false)));
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

describe('start-up: configuration', () => {
  it('reports every configuration error of a production start in one run, each naming its variable', async () => {
    const { code, out } = await runToExit('src/main.ts', { NODE_ENV: 'production', PORT: 'eighty', LOG_LEVEL: 'loud' });
    assert.equal(code, 78, out);
    assertNoTrace(out);
    const lines = out.trim().split('\n');
    const named = lines.map((l) => /^Invalid configuration: ([A-Z0-9_]+) /.exec(l)?.[1]);
    assert.ok(named.every(Boolean), `every line names its variable:\n${out}`);
    assert.deepEqual(new Set(named), new Set([
      'PORT',
      'LOG_LEVEL',
      'SUPABASE_JWT_SECRET',
      'LIVEKIT_API_SECRET',
      'LIVEKIT_API_KEY',
      'URL_SIGNING_SECRET',
      'DATABASE_URL',
      'STORAGE_BACKEND',
    ]));
  });

  it('refuses the embedded database in production, naming DATABASE_URL and the variable that allows it', async () => {
    const { code, out } = await runToExit('src/main.ts', { ...PROD_SECRETS, ALLOW_DISK_STORAGE: 'true' });
    assert.equal(code, 78, out);
    assertNoTrace(out);
    assert.equal(out.trim().split('\n').length, 1, out);
    assert.match(out, /^Invalid configuration: DATABASE_URL is required when NODE_ENV=production .*ALLOW_EMBEDDED_DATABASE=true/);
  });

  it('with ALLOW_EMBEDDED_DATABASE=true goes on to open it, and warns', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'auralink-startup-'));
    const port = await freePort();
    const server = startServer({
      ...PROD_SECRETS,
      ALLOW_EMBEDDED_DATABASE: 'true',
      ALLOW_DISK_STORAGE: 'true',
      DATA_DIR: dir,
      HOST: '127.0.0.1',
      PORT: String(port),
    });
    try {
      await server.waitFor(/"level":40[^\n]*ALLOW_EMBEDDED_DATABASE=true: production runs on the embedded database/);
      await server.waitFor(/"level":40[^\n]*ALLOW_DISK_STORAGE=true: production keeps files on this machine's disk/);
      // Past the configuration gate and still running, opening PGlite (a full embedded
      // start takes 20 s to over a minute here; test/embedded.test.ts runs one to the end).
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(server.running(), true, server.output());
      assert.doesNotMatch(server.output(), /Invalid configuration/);
    } finally {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('start-up: unreachable dependencies', () => {
  it('names DATABASE_URL and its address, without the password or a stack trace', async () => {
    const port = await freePort();
    const { code, out } = await runToExit('src/main.ts', {
      ...PROD_SECRETS,
      ALLOW_DISK_STORAGE: 'true',
      DATABASE_URL: `postgres://auralink:hunter2-secret@127.0.0.1:${port}/auralink`,
    });
    assert.equal(code, 69, out);
    assertNoTrace(out);
    const lines = out.trim().split('\n').filter((l) => !l.startsWith('{'));
    assert.equal(lines.length, 1, out);
    assert.match(lines[0]!, new RegExp(`^Cannot reach the database at DATABASE_URL=postgres://auralink:\\*\\*\\*@127\\.0\\.0\\.1:${port}/auralink \\(.*ECONNREFUSED.*\\); is PostgreSQL running`));
    assert.doesNotMatch(out, /hunter2/);
  });
});

const pgSkip = await serviceSkip('PostgreSQL', await postgresAvailable(), 'TEST_DATABASE_URL');

describe('start-up against a real PostgreSQL', { skip: pgSkip }, () => {
  let database: TestDatabase;
  let dataDir: string;
  before(async () => {
    database = await createTestDatabase('postgres');
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'auralink-startup-'));
  });
  after(async () => {
    await database?.cleanup();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('production stops on an unreachable S3 endpoint, naming S3_ENDPOINT', async () => {
    const port = await freePort();
    const { code, out } = await runToExit('src/main.ts', {
      ...PROD_SECRETS,
      LOG_LEVEL: 'warn',
      DATABASE_URL: database.url!,
      S3_ENDPOINT: `http://127.0.0.1:${port}`,
      S3_ACCESS_KEY_ID: 'startup-test',
      S3_SECRET_ACCESS_KEY: 'startup-test-secret',
    });
    assert.equal(code, 69, out);
    assertNoTrace(out);
    const lines = out.trim().split('\n').filter((l) => !l.startsWith('{'));
    assert.equal(lines.length, 1, out);
    assert.match(lines[0]!, new RegExp(`^Cannot reach the S3 storage at S3_ENDPOINT=http://127\\.0\\.0\\.1:${port}, bucket STORAGE_BUCKET=auralink-files \\(.*ECONNREFUSED`));
  });

  it('production stops on an unreachable LiveKit, naming LIVEKIT_URL', async () => {
    const port = await freePort();
    const { code, out } = await runToExit('src/main.ts', {
      ...PROD_SECRETS,
      LOG_LEVEL: 'warn',
      DATABASE_URL: database.url!,
      ALLOW_DISK_STORAGE: 'true',
      DATA_DIR: dataDir,
      LIVEKIT_URL: `ws://127.0.0.1:${port}`,
    });
    assert.equal(code, 69, out);
    assertNoTrace(out);
    const lines = out.trim().split('\n').filter((l) => !l.startsWith('{'));
    assert.equal(lines.length, 1, out);
    assert.match(lines[0]!, new RegExp(`^Cannot reach LiveKit at LIVEKIT_URL=ws://127\\.0\\.0\\.1:${port} \\(.*ECONNREFUSED.*\\); is the LiveKit server running\\?`));
  });

  it('production with ALLOW_DISK_STORAGE=true starts, serves readiness, and warns', async () => {
    const port = await freePort();
    const server = startServer({
      ...PROD_SECRETS,
      DATABASE_URL: database.url!,
      ALLOW_DISK_STORAGE: 'true',
      DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      PORT: String(port),
    });
    try {
      await server.waitFor(/Server listening at/);
      assert.match(server.output(), /"level":40[^\n]*ALLOW_DISK_STORAGE=true: production keeps files on this machine's disk/);
      assert.doesNotMatch(server.output(), /ALLOW_EMBEDDED_DATABASE/);
      const ready = await fetch(`http://127.0.0.1:${port}/readiness`);
      assert.equal(ready.status, 200);
      assert.equal((await ready.json()).checks.storage.status, 'ok');
    } finally {
      await server.stop();
    }
  });

  it('development warns about an unreachable S3 or LiveKit and starts anyway, on loopback only', async () => {
    const port = await freePort();
    const closed = await freePort();
    const server = startServer({
      NODE_ENV: 'development',
      DATABASE_URL: database.url!,
      PORT: String(port),
      S3_ENDPOINT: `http://127.0.0.1:${closed}`,
      S3_ACCESS_KEY_ID: 'startup-test',
      S3_SECRET_ACCESS_KEY: 'startup-test-secret',
      LIVEKIT_URL: `ws://127.0.0.1:${closed}`,
    });
    try {
      await server.waitFor(/Server listening at/);
      const out = server.output();
      assert.match(out, /"level":40[^\n]*Cannot reach the S3 storage at S3_ENDPOINT=/);
      assert.match(out, /"level":40[^\n]*Cannot reach LiveKit at LIVEKIT_URL=/);
      // HOST unset in development: loopback only.
      assert.match(out, new RegExp(`Server listening at http://127\\.0\\.0\\.1:${port}"`));
      assert.doesNotMatch(out, /0\.0\.0\.0/);
      assert.equal(await connects('127.0.0.1', port), true);
      const external = Object.values(os.networkInterfaces())
        .flat()
        .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
      if (external) assert.equal(await connects(external, port), false, `reachable on ${external}`);
      else process.stderr.write('startup.test: no non-loopback IPv4 address here; only the log line proves the bind\n');
      // Readiness says why: storage and LiveKit are required and down.
      const ready = await fetch(`http://127.0.0.1:${port}/readiness`);
      assert.equal(ready.status, 503);
    } finally {
      await server.stop();
    }
  });
});

describe('dev-token', () => {
  it('refuses under production settings in one line', async () => {
    const prod = await runToExit('src/cli/dev-token.ts', { NODE_ENV: 'production' }, ['alice']);
    assert.equal(prod.code, 1);
    assert.equal(prod.out, 'dev-token refuses: NODE_ENV=production, and development tokens are never minted for a production deployment.\n');
    const real = await runToExit('src/cli/dev-token.ts', { SUPABASE_JWT_SECRET: PROD_SECRETS.SUPABASE_JWT_SECRET }, ['alice']);
    assert.equal(real.code, 1);
    assert.match(real.out, /^dev-token refuses: SUPABASE_JWT_SECRET is set to a real secret[^\n]*\n$/);
    const dev = await runToExit('src/cli/dev-token.ts', {}, ['alice']);
    assert.equal(dev.code, 0, dev.out);
    assert.match(dev.out, /^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/);
  });
});
