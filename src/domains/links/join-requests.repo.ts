// SQL of the waiting room. Creation goes through app.join_request_create (the
// requester may be anonymous); the creator lists and decides under RLS; the
// requester's poll runs privileged, with the request secret in every WHERE.
import type { Sql } from '../../db/database.ts';
import { Params } from '../../db/params.ts';

export interface RequestRow {
  request_id: string;
  link_id: string;
  call_id: string;
  user_id: string | null;
  display_name: string;
  role: 'host' | 'moderator' | 'participant' | 'viewer';
  status: 'pending' | 'approved' | 'denied';
  created_at: Date;
  expires_at: Date;
  decided_at: Date | null;
  token_issued_at: Date | null;
  expired: boolean;
  created_key: string;
}

const COLUMNS = `request_id, link_id, call_id, user_id, display_name, role, status, created_at, expires_at,
  decided_at, token_issued_at, (status = 'pending' AND expires_at <= now()) AS expired,
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_key`;

export async function create(
  sql: Sql,
  r: { linkId: string; displayName: string; role: string; secretHash: Buffer; ttlSeconds: number },
): Promise<{ request_id: string; expires_at: Date } | null> {
  const { rows } = await sql.query<{ request_id: string; expires_at: Date }>(
    'SELECT * FROM app.join_request_create($1, $2, $3, $4, $5)',
    [r.linkId, r.displayName, r.role, r.secretHash, r.ttlSeconds],
  );
  return rows[0] ?? null;
}

/** The call behind a room id (call_id or room_name) and its creator, as the caller sees it. */
export async function resolveRoom(sql: Sql, roomId: string, isUuid: boolean) {
  const { rows } = await sql.query<{ call_id: string; created_by: string }>(
    `SELECT call_id, created_by FROM calls WHERE ${isUuid ? 'call_id = $1::uuid' : 'room_name = $1'}`,
    [roomId],
  );
  return rows[0] ?? null;
}

export type StatusFilter = 'pending' | 'approved' | 'denied' | 'expired' | 'all';

export async function list(
  sql: Sql,
  f: { callId: string; status: StatusFilter; after: { created_key: string; request_id: string } | null; limit: number },
): Promise<RequestRow[]> {
  const cond = {
    pending: "status = 'pending' AND expires_at > now()",
    expired: "status = 'pending' AND expires_at <= now()",
    approved: "status = 'approved'",
    denied: "status = 'denied'",
    all: 'true',
  }[f.status];
  const p = new Params(f.callId);
  p.where(
    f.after,
    () => `(created_at, request_id) < (${p.add(f.after!.created_key)}::timestamptz, ${p.add(f.after!.request_id)}::uuid)`,
  );
  const limit = p.add(f.limit + 1);
  const { rows } = await sql.query<RequestRow>(
    `SELECT ${COLUMNS} FROM join_requests
      WHERE call_id = $1 AND ${cond}${p.and()}
      ORDER BY created_at DESC, request_id DESC LIMIT ${limit}`,
    p.values,
  );
  return rows;
}

export async function findInCall(sql: Sql, callId: string, requestId: string): Promise<RequestRow | null> {
  const { rows } = await sql.query<RequestRow>(
    `SELECT ${COLUMNS} FROM join_requests WHERE call_id = $1 AND request_id = $2`,
    [callId, requestId],
  );
  return rows[0] ?? null;
}

/**
 * Decides a pending, unexpired request; an approval gives the requester a fresh
 * TTL to collect the token. Returns the updated row, or null when not decidable.
 */
export async function decide(
  sql: Sql,
  requestId: string,
  decision: 'approved' | 'denied',
  by: string,
  ttlSeconds: number,
): Promise<RequestRow | null> {
  const { rows } = await sql.query<RequestRow>(
    `UPDATE join_requests SET status = $2, decided_at = now(), decided_by = $3,
            expires_at = CASE WHEN $2 = 'approved' THEN now() + make_interval(secs => $4) ELSE expires_at END
      WHERE request_id = $1 AND status = 'pending' AND expires_at > now()
      RETURNING ${COLUMNS}`,
    [requestId, decision, by, ttlSeconds],
  );
  return rows[0] ?? null;
}

/** Privileged: the request as its holder sees it, or null (unknown id or wrong secret). */
export async function findBySecret(sql: Sql, requestId: string, secretHash: Buffer): Promise<RequestRow | null> {
  const { rows } = await sql.query<RequestRow>(
    `SELECT ${COLUMNS} FROM join_requests WHERE request_id = $1 AND secret_hash = $2`,
    [requestId, secretHash],
  );
  return rows[0] ?? null;
}

/** Privileged: marks the token handed out, once; null when not (or no longer) collectable. */
export async function takeToken(sql: Sql, requestId: string, secretHash: Buffer): Promise<RequestRow | null> {
  const { rows } = await sql.query<RequestRow>(
    `UPDATE join_requests SET token_issued_at = now()
      WHERE request_id = $1 AND secret_hash = $2 AND status = 'approved'
        AND token_issued_at IS NULL AND expires_at > now()
      RETURNING ${COLUMNS}`,
    [requestId, secretHash],
  );
  return rows[0] ?? null;
}

export async function setParticipant(sql: Sql, requestId: string, participantId: string): Promise<void> {
  await sql.query('UPDATE join_requests SET participant_id = $2 WHERE request_id = $1', [requestId, participantId]);
}

/** Announces a decision on the event stream (see app.join_request_announce). */
export async function announce(sql: Sql, requestId: string): Promise<void> {
  await sql.query('SELECT app.join_request_announce($1)', [requestId]);
}
