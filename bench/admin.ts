// Operator scenarios: the 30-day usage query (the overview's plot), the worst-quality
// query and the live-rooms query, as an operator (app_metadata.role = operator) at 20
// concurrent clients. The dataset's rollups come from app.usage_rebuild /
// app.quality_days_rebuild after the bulk load (bench/dataset.ts). The "30 days" end at
// the dataset's last day, so they cover data at every scale.
import pg from 'pg';
import { SignJWT } from 'jose';
import { DEV_JWT_SECRET } from '../src/config.ts';
import { benchDatabaseUrl, userId } from './dataset.ts';
import { cannon, type Measured, type Service } from './lib.ts';

export const ADMIN_CONNECTIONS = 20;

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

export async function adminScenarios(svc: Service, scale: string, out: Measured[], log: (m: string) => void, duration: number) {
  const c = new pg.Client({ connectionString: benchDatabaseUrl(scale) });
  await c.connect();
  const { rows } = await c.query<{ last: Date | null }>('SELECT max(day)::timestamptz AS last FROM usage_days');
  await c.end();
  const last = rows[0]?.last ? rows[0].last.getTime() : Date.now();
  const to = day(last);
  const from = day(last - 29 * 86_400_000);
  const headers = { authorization: `Bearer ${await operatorToken()}` };
  const run = async (name: string, path: string, note: string) => {
    log(`[${scale}] ${name}`);
    await cannon(svc, { name: `${name} (warm-up)`, scale, connections: ADMIN_CONNECTIONS, duration: 2, next: () => ({ path, headers }) });
    out.push(await cannon(svc, { name, scale, connections: ADMIN_CONNECTIONS, duration, next: () => ({ path, headers }), note }));
  };
  await run('admin: usage, 30 days', `/api/v1/admin/usage?from=${from}&to=${to}`, `${from}..${to}, per day with peak concurrency`);
  await run('admin: worst quality, 30 days', `/api/v1/admin/quality/worst?from=${from}&to=${to}&metric=mos`, 'worst 20 calls by MOS');
  await run('admin: live rooms', '/api/v1/admin/rooms/live', 'open rooms and their participants');
  await run('admin: top rooms, 30 days', `/api/v1/admin/usage/rooms?from=${from}&to=${to}`, 'top 20 rooms by minutes (not a target)');
}
