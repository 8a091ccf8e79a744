// One way into Postgres for the whole service: a pg.Pool, pointed either at a real
// server (DATABASE_URL) or at an embedded PGlite exposed on a private unix socket.
// Requests go through asUser(), which enforces RLS; migrations and jobs use
// privileged(), which runs as the connection's own (owner) role.
import pg from 'pg';
import type { Logger } from 'pino';
import { openEmbedded, type Embedded } from './embedded.ts';

export const APP_ROLE = 'auralink_app';

export type Sql = Pick<pg.PoolClient, 'query'>;
export type Engine = 'postgres' | 'pglite';

export interface Database {
  readonly engine: Engine;
  readonly pool: pg.Pool;
  /** The embedded instance, when running on PGlite (for LISTEN, which needs it directly). */
  readonly embedded: Embedded | null;
  /** One transaction as auralink_app with app.user_id set (null: anonymous); RLS applies. */
  asUser<T>(userId: string | null, fn: (sql: Sql) => Promise<T>): Promise<T>;
  /** One transaction as the owner role; RLS does not apply. Jobs, migrations, webhooks. */
  privileged<T>(fn: (sql: Sql) => Promise<T>): Promise<T>;
  /** Connection check for /readiness. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  url: string | null;
  /** Where PGlite keeps its files when url is null; null means in memory. */
  dataDir: string | null;
  poolMax: number;
  logger: Logger;
  statementTimeoutMs?: number;
}

// pg returns int8 and numeric as strings by default; counts and sizes here fit in
// a double, and numeric columns are small scores.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));

/** One transaction on one pooled connection; `setup` runs right after BEGIN. */
async function transaction<T>(pool: pg.Pool, setup: ((c: pg.PoolClient) => Promise<unknown>) | null, fn: (sql: Sql) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    if (setup) await setup(client);
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    broken = isConnectionError(err);
    if (!broken) await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    // A connection that failed mid-transaction is discarded, never reused.
    client.release(broken);
  }
}

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  let embedded: Embedded | null = null;
  let connectionString = opts.url;
  let poolMax = opts.poolMax;
  if (!connectionString) {
    embedded = await openEmbedded(opts.dataDir, opts.logger);
    connectionString = embedded.connectionString;
    poolMax = 1; // PGlite is one backend: one connection, queued by the pool
  }
  const pool = new pg.Pool({
    connectionString,
    max: poolMax,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 5_000,
    application_name: 'auralink',
  });
  // A connection dropped by a restarting server must not crash the process.
  pool.on('error', (err) => opts.logger.warn({ err }, 'idle database connection failed'));
  const timeout = String(opts.statementTimeoutMs ?? 15_000);

  const db: Database = {
    engine: embedded ? 'pglite' : 'postgres',
    pool,
    embedded,
    asUser(userId, fn) {
      // Bound parameters, transaction-local: nothing leaks to the next user of the connection.
      const scope = (c: pg.PoolClient) =>
        c.query(
          `SELECT set_config('role', $1, true), set_config('app.user_id', $2, true),
                  set_config('statement_timeout', $3, true)`,
          [APP_ROLE, userId ?? '', timeout],
        );
      return transaction(pool, scope, fn);
    },
    privileged(fn) {
      return transaction(pool, null, fn);
    },
    async ping() {
      await pool.query('SELECT 1');
    },
    async close() {
      await pool.end().catch(() => undefined);
      if (embedded) await embedded.close();
    },
  };
  return db;
}

/** Errors that mean the database itself is unreachable or going away (503, not 500). */
export function isConnectionError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { code?: string; message?: string };
  if (e.code && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|57P0[123]|08\w{3}|53300)$/.test(e.code)) {
    return true;
  }
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
    e.message ?? '',
  );
}
