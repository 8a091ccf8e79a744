// Where committed call_events ids come from, one source per process:
//  - PostgreSQL: one dedicated LISTEN connection on channel auralink_events (the
//    trigger NOTIFYs on commit), so every instance hears every instance's events;
//    it reconnects with backoff and, on reconnect, catches up from the table.
//  - PGlite: NOTIFY sent on the socket server's connection does not reach
//    PGlite.listen() (checked: only notifications from PGlite's own query API are
//    delivered), and the process is the only one on those files, so it polls the
//    table for new ids while someone is subscribed.
import pg from 'pg';
import type { Logger } from 'pino';
import type { Database } from '../../db/database.ts';

export const CHANNEL = 'auralink_events';

export type IdListener = (eventId: number) => void;

export interface EventSource {
  start(): Promise<void>;
  stop(): Promise<void>;
}

async function maxEventId(db: Database): Promise<number> {
  const { rows } = await db.privileged((sql) =>
    sql.query<{ id: number | null }>('SELECT max(event_id) AS id FROM call_events'),
  );
  return Number(rows[0]?.id ?? 0);
}

async function idsAfter(db: Database, after: number): Promise<number[]> {
  const { rows } = await db.privileged((sql) =>
    sql.query<{ event_id: number }>('SELECT event_id FROM call_events WHERE event_id > $1 ORDER BY event_id LIMIT 1000', [
      after,
    ]),
  );
  return rows.map((r) => Number(r.event_id));
}

export function listenSource(db: Database, connectionString: string, logger: Logger, onId: IdListener): EventSource {
  let client: pg.Client | null = null;
  let stopped = false;
  let retry: NodeJS.Timeout | null = null;
  let delay = 500;
  let lastSeen = 0;

  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString, application_name: 'auralink-events' });
    c.on('notification', (n) => {
      const id = Number(n.payload);
      if (n.channel === CHANNEL && Number.isSafeInteger(id)) {
        lastSeen = Math.max(lastSeen, id);
        onId(id);
      }
    });
    c.on('error', (err) => {
      logger.warn({ err: err.message }, 'event listener connection failed; reconnecting');
      schedule();
    });
    await c.connect();
    await c.query(`LISTEN ${CHANNEL}`);
    client = c;
    delay = 500;
    // Whatever committed while we were not listening.
    if (lastSeen > 0) for (const id of await idsAfter(db, lastSeen)) onId(id);
  };

  const schedule = () => {
    const old = client;
    client = null;
    old?.end().catch(() => undefined);
    if (stopped || retry) return;
    retry = setTimeout(() => {
      retry = null;
      connect().catch((err) => {
        logger.warn({ err: (err as Error).message }, 'event listener reconnect failed');
        delay = Math.min(delay * 2, 10_000);
        schedule();
      });
    }, delay);
    retry.unref();
  };

  return {
    async start() {
      lastSeen = await maxEventId(db);
      await connect();
    },
    async stop() {
      stopped = true;
      if (retry) clearTimeout(retry);
      await client?.end().catch(() => undefined);
      client = null;
    },
  };
}

export function pollSource(db: Database, logger: Logger, onId: IdListener, intervalMs = 250): EventSource {
  let timer: NodeJS.Timeout | null = null;
  let last = 0;
  let busy = false;
  let stopped = false;
  const tick = async () => {
    if (busy || stopped) return;
    busy = true;
    try {
      for (const id of await idsAfter(db, last)) {
        last = id;
        onId(id);
      }
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'event poll failed');
    } finally {
      busy = false;
    }
  };
  return {
    async start() {
      last = await maxEventId(db);
      timer = setInterval(() => void tick(), intervalMs);
      timer.unref();
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
    },
  };
}
