// Webhook deliveries that were refused or failed, recorded for the operators' link
// health view (webhook_failures, migration 007). Refusals (bad signature or body) can
// come from anyone, so they are counted in memory and written at most once a second
// per kind, one row standing for the count; failures to apply a verified event come
// from LiveKit itself and are written one by one. Recording is best effort: it never
// changes the answer the delivery gets.
import type { Logger } from 'pino';
import type { Database } from '../../db/database.ts';

export type FailureKind = 'signature' | 'body' | 'apply';

export interface FailureInfo {
  event?: string | null;
  eventId?: string | null;
  roomName?: string | null;
  error: string;
}

const clip = (s: string | null | undefined, n: number) => (s ? s.slice(0, n) : null);

export class WebhookFailures {
  private readonly pending = new Map<FailureKind, { count: number; last: FailureInfo }>();
  private readonly timers = new Map<FailureKind, NodeJS.Timeout>();
  private readonly lastWrite = new Map<FailureKind, number>();

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    private readonly minIntervalMs = 1000,
  ) {}

  record(kind: FailureKind, info: FailureInfo): void {
    if (kind === 'apply') {
      void this.write(kind, 1, info);
      return;
    }
    const p = this.pending.get(kind) ?? { count: 0, last: info };
    p.count += 1;
    p.last = info;
    this.pending.set(kind, p);
    const wait = (this.lastWrite.get(kind) ?? 0) + this.minIntervalMs - Date.now();
    if (wait <= 0) this.flush(kind);
    else if (!this.timers.has(kind)) {
      const t = setTimeout(() => this.flush(kind), wait);
      t.unref();
      this.timers.set(kind, t);
    }
  }

  private flush(kind: FailureKind): void {
    clearTimeout(this.timers.get(kind));
    this.timers.delete(kind);
    const p = this.pending.get(kind);
    if (!p) return;
    this.pending.delete(kind);
    this.lastWrite.set(kind, Date.now());
    void this.write(kind, p.count, p.last);
  }

  private async write(kind: FailureKind, count: number, info: FailureInfo): Promise<void> {
    try {
      await this.db.privileged((sql) =>
        sql.query(
          `INSERT INTO webhook_failures (kind, count, event, event_id, room_name, error) VALUES ($1, $2, $3, $4, $5, $6)`,
          [kind, count, clip(info.event, 64), clip(info.eventId, 256), clip(info.roomName, 256), clip(info.error, 1000)],
        ),
      );
    } catch (err) {
      this.logger.warn({ err, kind }, 'could not record a webhook failure');
    }
  }

  /** Writes what is still counted in memory (shutdown, tests). */
  async drain(): Promise<void> {
    const kinds = [...this.pending.keys()];
    for (const k of kinds) {
      const p = this.pending.get(k)!;
      this.pending.delete(k);
      clearTimeout(this.timers.get(k));
      this.timers.delete(k);
      await this.write(k, p.count, p.last);
    }
  }
}
