// Real deadlocks, made on purpose from a second connection, to check what a request
// that PostgreSQL picks as the victim answers: a quality report runs again and is
// accepted once; a webhook (not retried: LiveKit redelivers) is 503 with Retry-After
// in the contract's shape, never 500.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { deliver, eventJson, sign, uid } from './helpers/webhooks.ts';

const CALL_LOCK = `SELECT pg_advisory_xact_lock(hashtextextended('call:' || $1::text, 0))`;

describe('a request chosen as a deadlock victim', () => {
  let t: TestApp;
  let other: pg.Client;
  let callId: string;

  /** Until a backend of the app waits on a lock (the first half of the cycle is in place). */
  async function appWaitsOnLock(): Promise<void> {
    for (let i = 0; i < 200; i++) {
      const { rows } = await other.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND application_name = 'auralink' AND wait_event_type = 'Lock'`,
      );
      if (rows[0].n > 0) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('the app never waited on the lock');
  }

  async function deadlocks(): Promise<number> {
    const { rows } = await other.query('SELECT deadlocks::int AS n FROM pg_stat_database WHERE datname = current_database()');
    return rows[0].n;
  }

  before(async () => {
    t = await startTestApp();
    await t.app.inject({ url: '/api/v1/users/me', headers: await t.auth('vic') });
    await t.ctx.db.privileged(async (sql) => {
      const c = await sql.query(
        `INSERT INTO calls (room_name, name, created_by, status) VALUES ('dl-room', 'D', $1, 'active') RETURNING call_id`,
        [t.userId('vic')],
      );
      callId = c.rows[0].call_id;
      await sql.query(
        `INSERT INTO call_participants (call_id, user_id, identity, display_name, status) VALUES ($1, $2, $3, 'vic', 'connected')`,
        [callId, t.userId('vic'), t.userId('vic')],
      );
    });
    if (t.database.url) {
      other = new pg.Client({ connectionString: t.database.url, application_name: 'deadlock-maker' });
      await other.connect();
    }
  });
  after(async () => {
    await other?.end();
    await t?.close();
  });

  it('a quality report is retried once and accepted once', async (ctx) => {
    if (!t.database.url) return ctx.skip('needs a second connection (PostgreSQL)');
    const before = await deadlocks();
    // The cycle: the report holds the call's lock (migration 012) and waits for the
    // call row (its foreign key check); the other side holds the row and asks for the lock.
    await other.query('BEGIN');
    await other.query('SELECT 1 FROM calls WHERE call_id = $1 FOR UPDATE', [callId]);
    const report = t.app.inject({
      method: 'POST',
      url: `/api/v1/calls/${callId}/quality`,
      headers: await t.auth('vic'),
      payload: { samples: [{ latency_ms: 40 }, { latency_ms: 50 }] },
    });
    await appWaitsOnLock();
    // Returns once PostgreSQL has cancelled the report's first attempt (the one that
    // waited first runs the deadlock check first); its retry then waits for us.
    await other.query(CALL_LOCK, [callId]);
    await other.query('ROLLBACK');
    const res = await report;
    assert.equal(res.statusCode, 202, res.body);
    assert.deepEqual(res.json(), { accepted: 2 });
    const { rows } = await t.ctx.db.privileged((sql) =>
      sql.query('SELECT count(*)::int AS n, (SELECT samples::int FROM quality_rollups) AS rolled FROM quality_metrics'),
    );
    assert.deepEqual(rows[0], { n: 2, rolled: 2 }, 'the cancelled attempt left nothing behind');
    // The statistics reach pg_stat_database within a second or so.
    for (let i = 0; i < 50 && (await deadlocks()) === before; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await deadlocks(), before + 1, 'PostgreSQL saw exactly one deadlock');
  });

  it('a webhook is answered 503 with Retry-After in the contract shape', async (ctx) => {
    if (!t.database.url) return ctx.skip('needs a second connection (PostgreSQL)');
    const id = uid('EV');
    // The webhook records its event id, then waits for the call's lock that we hold;
    // we then insert the same event id, which waits for the webhook's transaction.
    await other.query('BEGIN');
    await other.query(CALL_LOCK, [callId]);
    const body = eventJson({
      event: 'participant_joined',
      id,
      createdAt: Math.floor(Date.now() / 1000),
      room: { name: 'dl-room' },
      participant: { sid: 'PA_dl', identity: t.userId('vic'), joinedAtMs: Date.now() },
    });
    const delivery = t.app.inject({
      method: 'POST',
      url: '/api/v1/webhooks/livekit',
      headers: {
        'content-type': 'application/webhook+json',
        authorization: await sign(body, t.config.livekit.apiKey, t.config.livekit.apiSecret),
      },
      payload: body,
    });
    await appWaitsOnLock();
    await other.query(`INSERT INTO webhook_events (event_id, event, room_name) VALUES ($1, 'x', 'dl-room')`, [id]);
    await other.query('ROLLBACK');
    const res = await delivery;
    assert.equal(res.statusCode, 503, res.body);
    assert.equal(res.headers['retry-after'], '1');
    assert.equal(res.json().error.code, 'UPSTREAM_UNAVAILABLE');
    assert.equal(typeof res.json().error.message, 'string');
    // LiveKit's redelivery is then applied as if it were the first.
    const again = await deliver(t, body);
    assert.deepEqual(again, { status: 200, body: { status: 'applied' } });
  });
});
