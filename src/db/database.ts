// One way into Postgres for the whole service: a pg.Pool, pointed either at a real
// server (DATABASE_URL) or at an embedded PGlite exposed on a private unix socket.
// Requests go through asUser(), which enforces RLS; migrations and jobs use
// privileged(), which runs as the connection's own (owner) role.
import pg from 'pg';
import type { Logger } from 'pino';
// Type only: PGlite is loaded by openDatabase() when no DATABASE_URL is set, so a
// service on PostgreSQL never loads it (see the memory figures in docs/deployment.md).
import type { Embedded } from './embedded.ts';

export const APP_ROLE = 'auralink_app';
/** Operators' read-only role (migration 007): SELECT grants and policies only. */
export const OPERATOR_ROLE = 'auralink_operator';

export type Sql = Pick<pg.PoolClient, 'query'>;
export type Engine = 'postgres' | 'pglite';

export interface Database {
  readonly engine: Engine;
  readonly pool: pg.Pool;
  /** The embedded instance, when running on PGlite (for LISTEN, which needs it directly). */
  readonly embedded: Embedded | null;
  /** One transaction as auralink_app with app.user_id set (null: anonymous); RLS applies. */
  asUser<T>(userId: string | null, fn: (sql: Sql) => Promise<T>): Promise<T>;
  /**
   * asUser for work of exactly one statement (a second one throws): on PostgreSQL the
   * BEGIN with the scope, the statement and COMMIT leave in one write and cost one round
   * trip. Same transaction, same role and settings as asUser, so RLS is the same.
   */
  asUserOne<T>(userId: string | null, fn: (sql: Sql) => Promise<T>): Promise<T>;
  /** One transaction as auralink_operator (read-only grants), app.user_id = the operator's own id. */
  asOperator<T>(operatorId: string, fn: (sql: Sql) => Promise<T>): Promise<T>;
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
  /**
   * Prepare parameterised statements once per connection and reuse them (default true
   * on PostgreSQL). Turn off behind a transaction-mode pooler that cannot carry
   * prepared statements (PgBouncer before 1.21). Always off on PGlite, whose one
   * backend outlives the socket connections that would track them.
   */
  statementCache?: boolean;
  /**
   * Pipeline queries on a connection (default true on PostgreSQL): a query is written
   * without waiting for the answer to the one before, so BEGIN and the scope travel
   * with a transaction's first statement. Always off on PGlite.
   */
  pipeline?: boolean;
}

// pg returns int8 and numeric as strings by default; counts and sizes here fit in
// a double, and numeric columns are small scores.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));

const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * BEGIN and the RLS scope in one round trip: a simple-protocol query of two statements.
 * That protocol takes no parameters, so the values are inlined, and only values that
 * cannot carry SQL are accepted: a constant role, a uuid checked here, an integer.
 */
export function scopedBegin(userId: string | null, timeoutMs: number, role: typeof APP_ROLE | typeof OPERATOR_ROLE = APP_ROLE): string {
  if (userId !== null && !UUID_TEXT.test(userId)) throw new Error('asUser: the user id is not a uuid');
  if (!Number.isInteger(timeoutMs) || timeoutMs < 0) throw new Error('asUser: bad statement timeout');
  if (role !== APP_ROLE && role !== OPERATOR_ROLE) throw new Error('asUser: unknown role');
  return `BEGIN; SELECT set_config('role', '${role}', true), set_config('app.user_id', '${userId ?? ''}', true), set_config('statement_timeout', '${timeoutMs}', true)`;
}

/**
 * Names for parameterised statements, so that each connection parses and plans a
 * statement once and then only binds and executes it (planning the RLS-expanded list
 * query costs more than running it). Bounded: past `max` distinct texts, the rest run
 * unnamed as before.
 */
class StatementNames {
  private readonly names = new Map<string, string>();
  constructor(private readonly max = 2000) {}
  nameFor(text: string): string | undefined {
    let name = this.names.get(text);
    if (name === undefined && this.names.size < this.max) {
      name = `auralink_${this.names.size + 1}`;
      this.names.set(text, name);
    }
    return name;
  }
}

/** The Sql a transaction hands out: queries with parameters go by their statement name. */
function preparing(client: pg.PoolClient, names: StatementNames | null): Sql {
  if (!names) return client;
  const query = (textOrConfig: unknown, values?: unknown[]) => {
    if (typeof textOrConfig === 'string' && Array.isArray(values) && values.length > 0) {
      const name = names.nameFor(textOrConfig);
      if (name) return client.query({ name, text: textOrConfig, values });
    }
    return client.query(textOrConfig as string, values);
  };
  return { query } as Sql;
}

const ignore = () => undefined;
const FINAL = Symbol('final statement');

/**
 * Holds a connection's writes until the end of the current tick, so that what a
 * transaction sends back to back (BEGIN with the scope, its statements, COMMIT) leaves in
 * one write instead of one per query: on the loopback or a LAN each write is a system
 * call and a wake-up of the backend, and they were most of a token grant's CPU (see
 * docs/profiles.md). Only the batching changes, not the order or content of messages.
 */
function batchWrites(client: pg.PoolClient): () => void {
  const stream = (client as unknown as { connection?: { stream?: { cork?: () => void; uncork?: () => void } } }).connection?.stream;
  if (typeof stream?.cork !== 'function' || typeof stream.uncork !== 'function') return ignore;
  let corked = false;
  const uncork = () => {
    corked = false;
    stream.uncork!();
  };
  return () => {
    if (corked) return;
    corked = true;
    stream.cork!();
    process.nextTick(uncork);
  };
}

/**
 * Marks the next statement on `sql` as its transaction's last: COMMIT is written right
 * behind it instead of a round trip later, and any statement after it throws (it would
 * run after COMMIT, outside the scope). Does nothing on a Sql that is not a transaction's.
 */
export function lastStatement(sql: Sql): void {
  (sql as { [FINAL]?: () => void })[FINAL]?.();
}

/**
 * One transaction on one pooled connection, opened by `begin` (BEGIN plus any scope).
 * On a pipelined connection BEGIN is not awaited: the first statement is written right
 * behind it. That is safe for RLS because BEGIN and the scope are one message: if the
 * scope fails, the transaction is aborted and PostgreSQL refuses every statement after
 * it ("current transaction is aborted"), so nothing runs unscoped. With `one`, COMMIT
 * follows the first statement the same way (COMMIT of an aborted transaction rolls back).
 */
async function transaction<T>(
  pool: pg.Pool,
  begin: string,
  names: StatementNames | null,
  fn: (sql: Sql) => Promise<T>,
  opts: { pipelined: boolean; one?: boolean },
): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  const batch = opts.pipelined ? batchWrites(client) : ignore;
  try {
    batch();
    const began = client.query(begin);
    if (opts.pipelined) began.catch(ignore); // its error is raised by the await below
    else await began;
    const inner = preparing(client, names);
    let committed: Promise<unknown> | null = null;
    let final = Boolean(opts.one);
    const sql = {
      query: (...args: unknown[]) => {
        if (committed) throw new Error('a statement after the last statement of a transaction');
        batch();
        const result = (inner.query as (...a: unknown[]) => Promise<unknown>)(...args);
        if (final) {
          committed = client.query('COMMIT');
          committed.catch(ignore);
        }
        return result;
      },
      [FINAL]: () => (final = true),
    } as unknown as Sql;
    const result = await fn(sql);
    await began;
    if (!committed) batch();
    await (committed ?? client.query('COMMIT'));
    return result;
  } catch (err) {
    // A connection that failed mid-transaction is discarded, never reused; so is one
    // whose prepared statements outlived a schema change made by another instance's
    // migration (PostgreSQL refuses them: "cached plan must not change result type").
    broken = isConnectionError(err) || (names !== null && (err as { code?: string }).code === '0A000');
    if (!broken) await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release(broken);
  }
}

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  let embedded: Embedded | null = null;
  let connectionString = opts.url;
  let poolMax = opts.poolMax;
  if (!connectionString) {
    const { openEmbedded } = await import('./embedded.ts');
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
    pipeline: !embedded && opts.pipeline !== false,
  } as pg.PoolConfig);
  // A connection dropped by a restarting server must not crash the process.
  pool.on('error', (err) => opts.logger.warn({ err }, 'idle database connection failed'));
  const timeout = opts.statementTimeoutMs ?? 15_000;
  const names = !embedded && opts.statementCache !== false ? new StatementNames() : null;
  const pipelined = !embedded && opts.pipeline !== false;

  const db: Database = {
    engine: embedded ? 'pglite' : 'postgres',
    pool,
    embedded,
    async asUser(userId, fn) {
      // Transaction-local settings: nothing leaks to the next user of the connection.
      return transaction(pool, scopedBegin(userId, timeout), names, fn, { pipelined });
    },
    async asUserOne(userId, fn) {
      return transaction(pool, scopedBegin(userId, timeout), names, fn, { pipelined, one: true });
    },
    async asOperator(operatorId, fn) {
      return transaction(pool, scopedBegin(operatorId, timeout, OPERATOR_ROLE), names, fn, { pipelined });
    },
    privileged(fn) {
      return transaction(pool, 'BEGIN', names, fn, { pipelined });
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
  // The last one: a request that reached the database after shutdown closed the pool.
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end/i.test(
    e.message ?? '',
  );
}
