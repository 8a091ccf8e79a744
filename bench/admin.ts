// Operator scenarios, as an operator (app_metadata.role = operator) at 20 concurrent
// clients: the 30-day usage query (the overview's plot) over the dataset's last 30
// days of history and over the last 30 days up to now with 20,000 people connected,
// the worst-quality query and the live-rooms query. The dataset's rollups come from
// app.usage_rebuild_with_peaks / app.quality_days_rebuild after the bulk load
// (bench/dataset.ts); the people connected now are written here, through the
// session triggers, into 20 live webinar rooms (1,000 guests each, 10 of them
// signed-in users back after a reconnect that overlaps their open session).
import pg from 'pg';
import { SignJWT } from 'jose';
import { DEV_JWT_SECRET } from '../src/config.ts';
import { benchDatabaseUrl, DATASET_END, userId } from './dataset.ts';
import { cannon, type Measured, type Service } from './lib.ts';

export const ADMIN_CONNECTIONS = 20;
export const CONNECTED_NOW = 20_000;
const LIVE_ROOMS = 20;

async function operatorToken(): Promise<string> {
  return new SignJWT({ role: 'authenticated', app_metadata: { role: 'operator' } })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId(1))
    .setAudience('authenticated')
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + 6 * 3600)
    .sign(new TextEncoder().encode(DEV_JWT_SECRET));
}

const day = (t: number) => new Date(t).toISOString().slice(0, 10);
const pad12 = (n: number) => String(n).padStart(12, '0');

/**
 * At least CONNECTED_NOW sessions open in the bench's live rooms, joined over the last
 * two hours. Idempotent: a later run finds them (and the webhook scenario's guests).
 */
async function ensureConnected(c: pg.Client, log: (m: string) => void): Promise<number> {
  const open = async () => (await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM usage_open_keys`)).rows[0]!.n;
  if ((await open()) >= CONNECTED_NOW) return open();
  const started = Date.now();
  const room = (r: string) => `('50000000-0000-4000-8000-' || lpad((${r})::text, 12, '0'))::uuid`;
  await c.query('BEGIN');
  await c.query(
    `INSERT INTO calls (call_id, room_id, room_name, name, created_by, call_type, status, started_at, max_participants, created_at)
     SELECT ${room('r')}, 'RM_admin_live_' || r, 'admin-live-' || r, 'Webinar ' || r, $1, 'conference', 'active',
            now() - interval '3 hours', 1000, now() - interval '3 hours'
       FROM generate_series(1, ${LIVE_ROOMS}) r ON CONFLICT DO NOTHING`,
    [userId(1)],
  );
  const per = CONNECTED_NOW / LIVE_ROOMS;
  await c.query(
    `INSERT INTO call_participants (call_id, identity, participant_sid, display_name, role, status, joined_at)
     SELECT ${room('1 + k % ' + LIVE_ROOMS)}, 'bench-guest-' || k, 'PA_admin_' || k, 'Guest ' || k, 'participant', 'connected',
            now() - make_interval(secs => (k * 7919) % 7200)
       FROM generate_series(1, $1::int) k
     ON CONFLICT DO NOTHING`,
    [CONNECTED_NOW - 10 * LIVE_ROOMS],
  );
  // Signed-in users whose first session ended 5 minutes after their reconnect.
  await c.query(
    `WITH u AS (SELECT k, ${room('1 + k % ' + LIVE_ROOMS)} AS call_id,
                       ('00000000-0000-4000-8000-' || lpad((100 + k)::text, 12, '0'))::uuid AS user_id,
                       now() - make_interval(mins => 30 + k) AS back FROM generate_series(1, $1::int) k)
     INSERT INTO call_participants (call_id, user_id, identity, participant_sid, display_name, role, status, joined_at, left_at)
     SELECT call_id, user_id, user_id::text, 'PA_admin_u' || k || s.n, 'User ' || k, 'participant', s.status, s.joined, s.left_at
       FROM u, LATERAL (VALUES (1, 'left', back - interval '1 hour', back + interval '5 minutes'),
                               (2, 'connected', back, NULL::timestamptz)) AS s(n, status, joined, left_at)
     ON CONFLICT DO NOTHING`,
    [10 * LIVE_ROOMS],
  );
  await c.query('COMMIT');
  await c.query('ANALYZE call_participants; ANALYZE usage_open_keys');
  log(`  ${per} people connected in each of ${LIVE_ROOMS} live rooms in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return open();
}

export async function adminScenarios(svc: Service, scale: string, out: Measured[], log: (m: string) => void, duration: number) {
  const c = new pg.Client({ connectionString: benchDatabaseUrl(scale) });
  await c.connect();
  let connected: number;
  try {
    connected = await ensureConnected(c, log);
  } finally {
    await c.end();
  }
  // The dataset's last 30 days (its calls end at DATASET_END), and the 30 days up to today.
  const lastDay = DATASET_END - 86_400_000;
  const hist = { from: day(lastDay - 29 * 86_400_000), to: day(lastDay) };
  const today = Date.now();
  const recent = { from: day(today - 29 * 86_400_000), to: day(today) };
  const headers = { authorization: `Bearer ${await operatorToken()}` };
  const run = async (name: string, path: string, note: string) => {
    log(`[${scale}] ${name}`);
    await cannon(svc, { name: `${name} (warm-up)`, scale, connections: ADMIN_CONNECTIONS, duration: 2, next: () => ({ path, headers }) });
    out.push(await cannon(svc, { name, scale, connections: ADMIN_CONNECTIONS, duration, next: () => ({ path, headers }), note }));
  };
  await run('admin: usage, 30 days', `/api/v1/admin/usage?from=${hist.from}&to=${hist.to}`,
    `${hist.from}..${hist.to} (the dataset's last 30 days), per day with peak concurrency`);
  await run('admin: usage, 30 days to now', `/api/v1/admin/usage?from=${recent.from}&to=${recent.to}`,
    `${recent.from}..${recent.to} with ${connected.toLocaleString('en-US')} people connected now`);
  await run('admin: worst quality, 30 days', `/api/v1/admin/quality/worst?from=${hist.from}&to=${hist.to}&metric=mos`, 'worst 20 calls by MOS');
  await run('admin: live rooms', '/api/v1/admin/rooms/live',
    `the 100 busiest open rooms, 20 participants each; ${connected.toLocaleString('en-US')} connected`);
  await run('admin: top rooms, 30 days to now', `/api/v1/admin/usage/rooms?from=${recent.from}&to=${recent.to}`,
    'top 20 rooms by minutes (not a target)');
}
