// Failure drill: PostgreSQL stopped and started again under a steady write load, on a
// private cluster (never the machine's shared one). The service must come back without
// a restart, /readiness must go down and up again, and every write it acknowledged
// must be in the database afterwards.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { devToken } from '../src/cli/dev-token.ts';
import { DEV_JWT_SECRET } from '../src/config.ts';
import { eventually, freePort, startInstance, type Instance } from './helpers/instances.ts';
import { serviceSkip } from './helpers/services.ts';

const BIN = '/usr/lib/postgresql/15/bin';
const skip = await serviceSkip('a private PostgreSQL 15 cluster', fs.existsSync(`${BIN}/initdb`), `${BIN}/initdb`);

describe('drill: PostgreSQL restarted under load', { skip, timeout: 90_000 }, () => {
  let dir: string;
  let port: number;
  let instance: Instance;
  // initdb refuses to run as root: run the cluster as the postgres OS user then.
  const asPg = (cmd: string, args: string[]) =>
    process.getuid?.() === 0
      ? execFileSync('runuser', ['-u', 'postgres', '--', `${BIN}/${cmd}`, ...args], { stdio: 'pipe' })
      : execFileSync(`${BIN}/${cmd}`, args, { stdio: 'pipe' });
  const pgCtl = (action: 'start' | 'stop') =>
    asPg('pg_ctl', ['-D', path.join(dir, 'data'), '-l', path.join(dir, 'log'), '-w', '-t', '30',
      ...(action === 'start' ? ['-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`] : ['-m', 'fast']), action]);

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'auralink-drill-pg-'));
    fs.chmodSync(dir, 0o777);
    if (process.getuid?.() === 0) execFileSync('chown', ['postgres', dir]);
    port = await freePort();
    asPg('initdb', ['-D', path.join(dir, 'data'), '-U', 'postgres', '--auth=trust']);
    pgCtl('start');
    instance = await startInstance({
      DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/postgres`,
      DATA_DIR: path.join(dir, 'files'),
      JOBS_ENABLED: 'false',
      RATE_LIMIT_MAX: '1000000',
    });
  });

  after(async () => {
    await instance?.kill();
    if (dir) {
      try {
        pgCtl('stop');
      } catch {
        /* already stopped */
      }
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('recovers without a restart, readiness goes down and back up, no acknowledged write is lost', async () => {
    const auth = { authorization: `Bearer ${await devToken(DEV_JWT_SECRET, 'drill')}` };
    const acknowledged: string[] = [];
    const statuses: number[] = [];
    let stop = false;
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        const res = await fetch(`${instance.base}/api/v1/rooms`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ name: `Drill ${i}` }),
        }).catch(() => null);
        statuses.push(res?.status ?? 0);
        if (res?.status === 201) acknowledged.push(((await res.json()) as { call_id: string }).call_id);
        else await res?.arrayBuffer();
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const readiness = async () => (await fetch(`${instance.base}/readiness`)).status;

    await eventually(async () => acknowledged.length >= 10, 20_000, 'writes before the restart');
    assert.equal(await readiness(), 200);
    pgCtl('stop');
    await eventually(async () => (await readiness()) === 503, 15_000, '/readiness down');
    await new Promise((r) => setTimeout(r, 500));
    pgCtl('start');
    await eventually(async () => (await readiness()) === 200, 20_000, '/readiness back up');
    const before = acknowledged.length;
    await eventually(async () => acknowledged.length >= before + 10, 20_000, 'writes after the restart');
    stop = true;
    await writer;

    // While the database was away, requests failed cleanly: 503, never 500.
    assert.ok(statuses.every((s) => s === 201 || s === 503), statuses.join(','));
    assert.ok(statuses.includes(503), 'some writes were refused while the database was down');
    const c = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
    await c.connect();
    const { rows } = await c.query<{ n: number }>('SELECT count(*)::int AS n FROM calls WHERE call_id = ANY($1::uuid[])', [acknowledged]);
    await c.end();
    assert.equal(rows[0]!.n, acknowledged.length, 'every acknowledged room is stored');
  });
});
