// Live events are rows in call_events written in the same transaction as the change
// they describe; a trigger NOTIFYs on commit, so a rolled-back change tells no one.
import type { Sql } from '../../db/database.ts';

export interface NewEvent {
  /** The call the event belongs to; everyone who may see the call may see the event. */
  callId: string | null;
  /** When set, only this user sees the event (e.g. a private file, a join request decision). */
  audienceUserId?: string | null;
  /** Dotted name, e.g. "participant.joined", "file.shared". */
  type: string;
  payload: Record<string, unknown>;
}

export async function publish(sql: Sql, e: NewEvent): Promise<number> {
  const { rows } = await sql.query<{ event_id: number }>(
    `INSERT INTO call_events (call_id, audience_user_id, type, payload) VALUES ($1, $2, $3, $4)
     RETURNING event_id`,
    [e.callId, e.audienceUserId ?? null, e.type, JSON.stringify(e.payload)],
  );
  return rows[0]!.event_id;
}
