// Benchmark dataset: a dedicated database auralink_bench_<scale> with the service's
// schema (the real migration runner) and N calls with their participants, files and
// quality samples over 10k users, creators and participants drawn from a Zipf law
// (a few very busy users, a long tail), loaded with COPY FROM STDIN.
//
//   npm run bench:dataset -- --scale 10k|1m|10m [--force]
//
// Deterministic ids let bench/run.ts and pgbench name the same users without a lookup:
// user of rank i (1 = busiest) is 00000000-0000-4000-8000-<i, 12 digits>.
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import pino from 'pino';
import copyStreams from 'pg-copy-streams';
import { openDatabase } from '../src/db/database.ts';
import { migrate } from '../src/db/migrate.ts';

export const SCALES: Record<string, number> = { '10k': 10_000, '1m': 1_000_000, '10m': 10_000_000 };
export const USERS = 10_000;
export const ZIPF_S = 1.0;

const pad12 = (n: number) => String(n).padStart(12, '0');
export const userId = (rank: number) => `00000000-0000-4000-8000-${pad12(rank)}`;
const callId = (k: number) => `10000000-0000-4000-8000-${pad12(k)}`;
const participantId = (k: number) => `20000000-0000-4000-8000-${pad12(k)}`;
const fileId = (k: number) => `30000000-0000-4000-8000-${pad12(k)}`;

export function adminUrl(): string {
  return process.env.BENCH_ADMIN_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

export function benchDatabaseUrl(scale: string): string {
  const u = new URL(adminUrl());
  u.pathname = `/auralink_bench_${scale}`;
  return u.toString();
}

// A small deterministic PRNG (mulberry32): the same scale always gives the same data.
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Sampler of ranks 1..n with P(rank) proportional to 1/rank^s. */
function zipf(n: number, s: number, random: () => number): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) cdf[i] = sum += 1 / Math.pow(i + 1, s);
  for (let i = 0; i < n; i++) cdf[i]! /= sum;
  return () => {
    const x = random();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  };
}

const iso = (ms: number) => new Date(ms).toISOString();
const N = '\\N';

interface Sinks {
  calls: string[];
  participants: string[];
  files: string[];
  quality: string[];
}

/** Rows of calls [from, to), as COPY text lines, into the given sinks. */
/** The generated calls are spread over the year before this instant. */
export const DATASET_END = Date.UTC(2026, 0, 1);

function generateCalls(from: number, to: number, total: number, out: Sinks, random: () => number, pick: () => number) {
  const end = DATASET_END;
  const span = 365 * 86_400_000;
  for (let k = from; k < to; k++) {
    const creator = pick();
    const createdMs = end - span + Math.floor((k / total) * span) + Math.floor(random() * 60_000);
    const r = random();
    const [type, size] = r < 0.6 ? ['one_to_one', 2] : r < 0.9 ? ['group', 3 + Math.floor(random() * 2)] : ['conference', 5 + Math.floor(random() * 4)];
    const maxP = type === 'one_to_one' ? 2 : 50;
    const live = k >= total - 5; // the newest few are still waiting, as in real data
    const startMs = createdMs + 5_000;
    const durationS = 60 + Math.floor(random() * 3600);
    const endMs = startMs + durationS * 1000;
    const score = (3 + random() * 2).toFixed(2);
    const hasFile = random() < 0.1;
    out.calls.push(
      [callId(k), `RM_${k}`, `bench-${k}`, `Call ${k}`, userId(creator), type, live ? 'waiting' : 'ended',
        live ? N : iso(startMs), live ? N : iso(endMs), live ? N : durationS, maxP, 0, live ? N : score, iso(createdMs)].join('\t'),
    );
    if (live) continue;
    const members = new Set<number>([creator]);
    while (members.size < size) members.add(pick());
    let j = 0;
    for (const member of members) {
      const pk = k * 10 + j;
      const joinMs = startMs + j * 2000;
      const leftMs = endMs - Math.floor(random() * 30_000);
      const pScore = (3 + random() * 2).toFixed(2);
      out.participants.push(
        [participantId(pk), callId(k), userId(member), userId(member), `PA_${pk}`, `User ${member}`, j === 0 ? 'host' : 'participant',
          'left', iso(joinMs), iso(leftMs), Math.max(0, Math.floor((leftMs - joinMs) / 1000)), pScore,
          (random() * 3).toFixed(2), 20 + Math.floor(random() * 180), 'udp', iso(joinMs)].join('\t'),
      );
      out.quality.push(
        [callId(k), participantId(pk), iso(joinMs + 10_000), (random() * 3).toFixed(2), (random() * 30).toFixed(2),
          (20 + random() * 180).toFixed(2), (500 + random() * 2500).toFixed(2), 'udp', pScore].join('\t'),
      );
      j++;
    }
    if (hasFile) {
      const uploader = [...members][Math.floor(random() * members.size)]!;
      const id = fileId(k);
      out.files.push(
        [id, callId(k), `bench-${k}`, userId(uploader), `notes-${k}.pdf`, 'application/pdf', 10_000 + Math.floor(random() * 5_000_000),
          `bench/${id}`, 'auralink-files', 'clean', iso(startMs + 60_000)].join('\t'),
      );
    }
  }
}

const COLUMNS = {
  calls: 'calls (call_id, room_id, room_name, name, created_by, call_type, status, started_at, ended_at, duration_seconds, max_participants, participant_count, avg_quality_score, created_at)',
  participants: 'call_participants (participant_id, call_id, user_id, identity, participant_sid, display_name, role, status, joined_at, left_at, duration_seconds, avg_quality_score, packet_loss_percent, avg_latency_ms, connection_type, created_at)',
  files: 'files (file_id, call_id, room_name, uploader_id, file_name, file_type, file_size, storage_path, storage_bucket, scan_status, created_at)',
  quality: 'quality_metrics (call_id, participant_id, recorded_at, packet_loss_percent, jitter_ms, latency_ms, bandwidth_kbps, connection_type, quality_score)',
} as const;

async function copyLines(client: pg.Client, target: string, lines: Iterable<string>): Promise<void> {
  const sink = client.query(copyStreams.from(`COPY ${target} FROM STDIN`));
  await pipeline(Readable.from((function* () { for (const l of lines) yield `${l}\n`; })()), sink);
}

export const CONTACTS_PER_USER = 20;

/**
 * Contacts: each of the 10k users has 20 (200k rows), every tenth with a nickname, with
 * the triggers on so that search vectors are built as the service builds them. Added
 * to a database generated before contacts were part of the dataset, too.
 */
export async function ensureContacts(url: string, log: (m: string) => void): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ n: number }>('SELECT count(*)::int AS n FROM contacts');
    if (rows[0]!.n >= USERS * CONTACTS_PER_USER) return;
    const started = Date.now();
    await c.query(
      `INSERT INTO contacts (user_id, contact_user_id, nickname, created_at)
       SELECT ('00000000-0000-4000-8000-' || lpad(u::text, 12, '0'))::uuid,
              ('00000000-0000-4000-8000-' || lpad((1 + (u - 1 + k * 37) % $1)::text, 12, '0'))::uuid,
              CASE WHEN (u + k) % 10 = 0 THEN 'Pal ' || k || '-' || u END,
              now() - make_interval(mins => u * 20 + k)
         FROM generate_series(1, $1) u, generate_series(1, $2) k
       ON CONFLICT DO NOTHING`,
      [USERS, CONTACTS_PER_USER],
    );
    await c.query('ANALYZE contacts');
    log(`  contacts: ${USERS * CONTACTS_PER_USER} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await c.end();
  }
}

async function isComplete(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(`SELECT 1 FROM pg_tables WHERE tablename = 'bench_meta'`)).rowCount === 1;
  } finally {
    await c.end();
  }
}

export async function generate(scale: string, opts: { force?: boolean; log?: (m: string) => void } = {}) {
  const total = SCALES[scale] ?? Number(scale);
  if (!Number.isInteger(total) || total < 10) throw new Error(`unknown scale ${scale} (use 10k, 1m or 10m)`);
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const name = `auralink_bench_${scale}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  const exists = (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
  // bench_meta is written last: without it the database is a load that was cut short.
  const complete = exists && (await isComplete(benchDatabaseUrl(scale)));
  if (complete && !opts.force) {
    await admin.end();
    log(`${name} exists (use --force to regenerate)`);
    await ensureContacts(benchDatabaseUrl(scale), log);
    return { database: name, url: benchDatabaseUrl(scale), generated: false };
  }
  if (exists) await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();

  const url = benchDatabaseUrl(scale);
  const logger = pino({ level: 'warn' });
  const db = await openDatabase({ url, dataDir: null, poolMax: 1, logger });
  await migrate(db.pool, logger);
  await db.close();

  const started = Date.now();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  // Bulk load: triggers and FK checks off for this session (the rows are generated
  // consistent, denormalised columns included); ANALYZE afterwards.
  await client.query(`SET session_replication_role = replica`);
  await client.query(`SET synchronous_commit = off`);
  // Secondary indexes are built once after the load (much faster than row by row);
  // the ones that back a primary key or unique constraint stay.
  const { rows: secondary } = await client.query<{ name: string; def: string }>(
    `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
       FROM pg_index i
      WHERE i.indrelid = ANY ($1::regclass[])
        AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)`,
    [['calls', 'call_participants', 'files', 'quality_metrics', 'call_members']],
  );
  for (const ix of secondary) await client.query(`DROP INDEX ${ix.name}`);
  const random = rng(0xa11ce + total);
  const pick = zipf(USERS, ZIPF_S, random);
  const users = Array.from({ length: USERS }, (_, i) =>
    [userId(i + 1), `@u${i + 1}.aura`, `u${i + 1}`, `User ${i + 1}`, `u${i + 1}@bench.test`].join('\t'));
  await copyLines(client, 'users (user_id, aura_id, username, display_name, email)', users);
  const counts = { users: USERS, calls: 0, participants: 0, files: 0, quality: 0 };
  const BATCH = 50_000;
  for (let from = 0; from < total; from += BATCH) {
    const out: Sinks = { calls: [], participants: [], files: [], quality: [] };
    generateCalls(from, Math.min(total, from + BATCH), total, out, random, pick);
    for (const key of ['calls', 'participants', 'files', 'quality'] as const) {
      await copyLines(client, COLUMNS[key], out[key]);
      counts[key] += out[key].length;
    }
    if ((from / BATCH) % 4 === 0) log(`  ${Math.min(total, from + BATCH).toLocaleString()} / ${total.toLocaleString()} calls`);
  }
  await client.query(`SET session_replication_role = DEFAULT`);
  // What triggers maintain during normal writes, rebuilt once after the bulk load.
  await client.query('SELECT app.rebuild_call_members()');
  log(`  building ${secondary.length} indexes`);
  await client.query(`SET maintenance_work_mem = '512MB'`);
  for (const ix of secondary) await client.query(ix.def);
  // Usage and quality rollups (migrations 008, 009), from the raw rows, after the
  // indexes they read through exist.
  log('  rebuilding usage and quality rollups');
  await client.query(`SELECT app.usage_rebuild_with_peaks(
    (SELECT (min(joined_at) AT TIME ZONE 'UTC')::date FROM call_participants),
    (SELECT (max(left_at) AT TIME ZONE 'UTC')::date + 1 FROM call_participants))`);
  await client.query(`SELECT app.quality_days_rebuild(
    (SELECT (min(recorded_at) AT TIME ZONE 'UTC')::date FROM quality_metrics),
    (SELECT (max(recorded_at) AT TIME ZONE 'UTC')::date + 1 FROM quality_metrics))`);
  await ensureContacts(url, log);
  await client.query(`CREATE TABLE bench_meta (key text PRIMARY KEY, value jsonb NOT NULL)`);
  await client.query(`INSERT INTO bench_meta VALUES ('dataset', $1)`, [
    JSON.stringify({ scale, counts, zipf_s: ZIPF_S, seconds: (Date.now() - started) / 1000, generated_at: new Date().toISOString() }),
  ]);
  await client.query('VACUUM ANALYZE');
  await client.end();
  log(`${name}: ${JSON.stringify(counts)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { database: name, url, generated: true, counts };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const i = args.indexOf('--scale');
  const scales = i >= 0 ? args[i + 1]!.split(',') : ['10k'];
  for (const scale of scales) await generate(scale, { force: args.includes('--force') });
}
