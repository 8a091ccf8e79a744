// Live events for signed-in users. Ids of committed call_events rows arrive from
// the process's one source (LISTEN or the PGlite poller); each row is then loaded
// under each subscriber's own RLS scope, so what a user receives is exactly what
// the call_events policy lets them see.
import type { Logger } from 'pino';
import type { Database, Sql } from '../../db/database.ts';
import { listenSource, pollSource, type EventSource } from './events.hub.ts';

/** How far back Last-Event-ID can resume. */
export const RESUME_WINDOW_SECONDS = 300;
const RESUME_MAX_EVENTS = 1000;

export interface LiveEvent {
  event_id: number;
  type: string;
  call_id: string | null;
  payload: Record<string, unknown>;
  created_at: string;
}

interface Subscriber {
  userId: string;
  send(e: LiveEvent): void;
  /** Live ids seen before the resume backlog was sent; null once live. */
  buffer: number[] | null;
  lastSent: number;
}

const SELECT = `SELECT event_id, type, call_id, payload, created_at FROM call_events`;
const toEvent = (r: { event_id: number; type: string; call_id: string | null; payload: Record<string, unknown>; created_at: Date }) => ({
  event_id: Number(r.event_id),
  type: r.type,
  call_id: r.call_id,
  payload: r.payload,
  created_at: r.created_at.toISOString(),
});

async function loadVisible(sql: Sql, ids: number[]): Promise<LiveEvent[]> {
  const { rows } = await sql.query(`${SELECT} WHERE event_id = ANY($1::bigint[]) ORDER BY event_id`, [ids]);
  return rows.map(toEvent);
}

export class EventsService {
  private readonly subscribers = new Set<Subscriber>();
  private source: EventSource | null = null;
  private starting: Promise<void> | null = null;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
  ) {}

  private ensureSource(): Promise<void> {
    if (!this.starting) {
      const onId = (id: number) => {
        // One at a time, in order: each delivery finishes before the next starts.
        this.chain = this.chain.then(() => this.dispatch([id])).catch((err) => {
          this.logger.warn({ err }, 'event dispatch failed');
        });
      };
      const url = this.db.engine === 'postgres' ? this.db.pool.options.connectionString : undefined;
      this.source = url ? listenSource(this.db, url, this.logger, onId) : pollSource(this.db, this.logger, onId);
      this.starting = this.source.start().catch((err) => {
        this.starting = null;
        this.source = null;
        throw err;
      });
    }
    return this.starting;
  }

  private async dispatch(ids: number[]): Promise<void> {
    const byUser = new Map<string, Subscriber[]>();
    for (const s of this.subscribers) byUser.set(s.userId, [...(byUser.get(s.userId) ?? []), s]);
    for (const [userId, subs] of byUser) {
      const events = await this.db.asUser(userId, (sql) => loadVisible(sql, ids));
      for (const s of subs) {
        if (s.buffer) {
          s.buffer.push(...ids);
          continue;
        }
        for (const e of events) if (e.event_id > s.lastSent) this.deliver(s, e);
      }
    }
  }

  private deliver(s: Subscriber, e: LiveEvent) {
    s.lastSent = e.event_id;
    try {
      s.send(e);
    } catch (err) {
      this.logger.debug({ err }, 'event subscriber write failed');
    }
  }

  /**
   * Subscribes a user; with lastEventId, first replays what they may see after it
   * (within the resume window), then goes live without gaps or repeats.
   */
  async subscribe(userId: string, lastEventId: number | null, send: (e: LiveEvent) => void): Promise<() => void> {
    const sub: Subscriber = { userId, send, buffer: lastEventId !== null ? [] : null, lastSent: lastEventId ?? 0 };
    await this.ensureSource();
    this.subscribers.add(sub);
    if (lastEventId !== null) {
      const backlog = await this.db.asUser(userId, async (sql) => {
        const { rows } = await sql.query(
          `${SELECT} WHERE event_id > $1 AND created_at > now() - make_interval(secs => $2)
            ORDER BY event_id LIMIT $3`,
          [lastEventId, RESUME_WINDOW_SECONDS, RESUME_MAX_EVENTS],
        );
        return rows.map(toEvent);
      });
      for (const e of backlog) this.deliver(sub, e);
      const buffered = sub.buffer!.filter((id) => id > sub.lastSent);
      sub.buffer = null;
      if (buffered.length > 0) {
        const events = await this.db.asUser(userId, (sql) => loadVisible(sql, buffered));
        for (const e of events) if (e.event_id > sub.lastSent) this.deliver(sub, e);
      }
    } else {
      // Live only from the newest committed event on.
      const { rows } = await this.db.asUser(userId, (sql) =>
        sql.query<{ id: number | null }>('SELECT max(event_id) AS id FROM call_events'),
      );
      sub.lastSent = Math.max(sub.lastSent, Number(rows[0]?.id ?? 0));
    }
    return () => {
      this.subscribers.delete(sub);
    };
  }

  async close(): Promise<void> {
    this.subscribers.clear();
    await this.source?.stop();
  }
}
