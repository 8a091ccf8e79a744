// The embedded default: PGlite (real Postgres compiled to WASM) in DATA_DIR, served
// on a private unix socket so the service talks to it through the same pg code path
// as a real server. A lock file keeps a second process from opening the same files.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import type { Logger } from 'pino';

export interface Embedded {
  readonly db: PGlite;
  readonly connectionString: string;
  close(): Promise<void>;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes DATA_DIR/pglite.lock, reclaiming it when the process that held it is gone. */
export function acquireLock(lockPath: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockPath, String(process.pid), { flag: 'wx' });
      return () => {
        try {
          if (fs.readFileSync(lockPath, 'utf8') === String(process.pid)) fs.unlinkSync(lockPath);
        } catch {
          /* already gone */
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(fs.readFileSync(lockPath, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && pidAlive(holder)) {
        throw new Error(
          `The embedded database in ${path.dirname(lockPath)} is in use by process ${holder}. ` +
            'Stop it, or point DATA_DIR elsewhere, or set DATABASE_URL.',
        );
      }
      fs.rmSync(lockPath, { force: true }); // stale lock from a crashed process
    }
  }
  throw new Error(`Could not take the lock ${lockPath}`);
}

/** dataDir null: an in-memory database (tests). */
export async function openEmbedded(dataDir: string | null, logger: Logger): Promise<Embedded> {
  let release = () => {};
  let pgdata: string | undefined;
  if (dataDir) {
    fs.mkdirSync(dataDir, { recursive: true });
    release = acquireLock(path.join(dataDir, 'pglite.lock'));
    pgdata = path.join(dataDir, 'pgdata');
  }
  // Unix socket paths are limited to ~100 bytes, so the socket lives in a short tmp dir.
  const sockDir = fs.mkdtempSync(path.join(os.tmpdir(), 'auralink-pg-'));
  const port = 5432;
  try {
    const db = await PGlite.create(pgdata);
    const server = new PGLiteSocketServer({ db, path: path.join(sockDir, `.s.PGSQL.${port}`) });
    await server.start();
    logger.info({ dataDir: dataDir ?? 'memory' }, 'embedded PostgreSQL (PGlite) ready');
    let closed = false;
    return {
      db,
      connectionString: `postgres://postgres@localhost:${port}/postgres?host=${encodeURIComponent(sockDir)}`,
      async close() {
        if (closed) return;
        closed = true;
        await server.stop().catch(() => undefined);
        await db.close().catch(() => undefined);
        fs.rmSync(sockDir, { recursive: true, force: true });
        release();
      },
    };
  } catch (err) {
    release();
    fs.rmSync(sockDir, { recursive: true, force: true });
    throw err;
  }
}
