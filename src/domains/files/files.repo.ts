// All SQL of the files domain. User-facing reads and writes run inside the caller's
// RLS scope (asUser); the bookkeeping tables (uploads in flight, deletion and scan
// queues) are reached only through privileged transactions or the triggers of 003.
import type { Sql } from '../../db/database.ts';
import { Params } from '../../db/params.ts';

export type AccessLevel = 'public' | 'call_participants' | 'private';
export type ScanStatus = 'pending' | 'clean' | 'infected' | 'failed' | 'skipped';

export interface FileRow {
  file_id: string;
  call_id: string;
  room_name: string;
  uploader_id: string | null;
  file_name: string;
  file_type: string;
  detected_type: string | null;
  file_size: number;
  sha256: string | null;
  storage_path: string;
  storage_bucket: string;
  access_level: AccessLevel;
  virus_scanned: boolean;
  scan_status: ScanStatus;
  expires_at: Date | null;
  created_at: Date;
}

const COLUMNS = `file_id, call_id, room_name, uploader_id, file_name, file_type, detected_type, file_size, sha256,
  storage_path, storage_bucket, access_level, virus_scanned, scan_status, expires_at, created_at`;

export interface UploadTarget {
  call_id: string;
  room_name: string;
  file_sharing_enabled: boolean;
  is_member: boolean;
}

/** The call an upload names, as the caller sees it (RLS), with the caller's membership. */
export async function findUploadTarget(sql: Sql, ref: { callId?: string; roomName?: string }): Promise<UploadTarget | null> {
  const { rows } = await sql.query<UploadTarget>(
    `SELECT call_id, room_name, file_sharing_enabled, app.is_call_member(call_id) AS is_member
       FROM calls WHERE ${ref.callId ? 'call_id = $1' : 'room_name = $1'}`,
    [ref.callId ?? ref.roomName],
  );
  return rows[0] ?? null;
}

export interface NewFile {
  file_id: string;
  call_id: string;
  room_name: string;
  uploader_id: string;
  uploader_identity: string | null;
  file_name: string;
  file_type: string;
  detected_type: string | null;
  file_size: number;
  sha256: string;
  storage_path: string;
  storage_bucket: string;
  access_level: AccessLevel;
  scan_status: 'pending' | 'skipped';
  expires_in_seconds: number | null;
}

export async function insertFile(sql: Sql, f: NewFile): Promise<FileRow> {
  const { rows } = await sql.query<FileRow>(
    `INSERT INTO files (file_id, call_id, room_name, uploader_id, uploader_identity, file_name, file_type,
                        detected_type, file_size, sha256, storage_path, storage_bucket, access_level, scan_status,
                        expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
             CASE WHEN $15::integer IS NULL THEN NULL ELSE now() + make_interval(secs => $15::integer) END)
     RETURNING ${COLUMNS}`,
    [f.file_id, f.call_id, f.room_name, f.uploader_id, f.uploader_identity, f.file_name, f.file_type,
      f.detected_type, f.file_size, f.sha256, f.storage_path, f.storage_bucket, f.access_level, f.scan_status,
      f.expires_in_seconds],
  );
  return rows[0]!;
}

export async function findFile(sql: Sql, fileId: string): Promise<FileRow | null> {
  const { rows } = await sql.query<FileRow>(`SELECT ${COLUMNS} FROM files WHERE file_id = $1`, [fileId]);
  return rows[0] ?? null;
}

/** Whether the current user created the call (for delete rights), checked in the caller's scope. */
export async function isCallCreator(sql: Sql, callId: string): Promise<boolean> {
  const { rows } = await sql.query<{ ok: boolean }>('SELECT app.is_call_creator($1) AS ok', [callId]);
  return rows[0]?.ok === true;
}

/** Visible files of a call, newest first, keyset-paginated on (created_at, file_id). */
export async function listFiles(
  sql: Sql,
  callId: string,
  after: { created_at: string; file_id: string } | null,
  limit: number,
): Promise<FileRow[]> {
  const p = new Params(callId);
  p.where(
    after,
    () => `(created_at, file_id) < (${p.add(after!.created_at)}::timestamptz, ${p.add(after!.file_id)}::uuid)`,
  );
  const lim = p.add(limit);
  const { rows } = await sql.query<FileRow>(
    `SELECT ${COLUMNS} FROM files
      WHERE call_id = $1${p.and()}
      ORDER BY created_at DESC, file_id DESC
      LIMIT ${lim}`,
    p.values,
  );
  return rows;
}

export async function findCallId(sql: Sql, ref: { callId?: string; roomName?: string }): Promise<string | null> {
  const { rows } = await sql.query<{ call_id: string }>(
    `SELECT call_id FROM calls WHERE ${ref.callId ? 'call_id = $1' : 'room_name = $1'}`,
    [ref.callId ?? ref.roomName],
  );
  return rows[0]?.call_id ?? null;
}

export async function deleteFile(sql: Sql, fileId: string): Promise<FileRow | null> {
  const { rows } = await sql.query<FileRow>(`DELETE FROM files WHERE file_id = $1 RETURNING ${COLUMNS}`, [fileId]);
  return rows[0] ?? null;
}

// ---------------------------------------------------------------- privileged

/** A live (unexpired) file by id, for the signed-URL route whose signature is the credential. */
export async function findLiveFilePrivileged(sql: Sql, fileId: string): Promise<FileRow | null> {
  const { rows } = await sql.query<FileRow>(
    `SELECT ${COLUMNS} FROM files WHERE file_id = $1 AND (expires_at IS NULL OR expires_at > now())`,
    [fileId],
  );
  return rows[0] ?? null;
}

export async function recordUpload(sql: Sql, bucket: string, key: string): Promise<void> {
  await sql.query('INSERT INTO file_uploads (storage_bucket, storage_path) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
    bucket,
    key,
  ]);
}

export async function dropUpload(sql: Sql, bucket: string, key: string): Promise<void> {
  await sql.query('DELETE FROM file_uploads WHERE storage_bucket = $1 AND storage_path = $2', [bucket, key]);
}

export async function queueDeletion(sql: Sql, bucket: string, key: string, reason: string): Promise<void> {
  await sql.query(
    `INSERT INTO storage_deletions (storage_bucket, storage_path, reason) VALUES ($1, $2, $3)
     ON CONFLICT (storage_bucket, storage_path) DO UPDATE SET next_attempt_at = now()`,
    [bucket, key, reason],
  );
}

export async function deletionDone(sql: Sql, bucket: string, key: string): Promise<void> {
  await sql.query('DELETE FROM storage_deletions WHERE storage_bucket = $1 AND storage_path = $2', [bucket, key]);
}

export interface DeletionRow {
  deletion_id: number;
  storage_bucket: string;
  storage_path: string;
  attempts: number;
}

/** Claims due deletions by pushing their next attempt out: a crashed worker's claims come back later. */
export async function claimDeletions(sql: Sql, bucket: string, limit: number, leaseSeconds: number): Promise<DeletionRow[]> {
  const { rows } = await sql.query<DeletionRow>(
    `UPDATE storage_deletions d
        SET attempts = d.attempts + 1, next_attempt_at = now() + make_interval(secs => $3::integer)
      WHERE d.deletion_id IN (SELECT deletion_id FROM storage_deletions
                               WHERE storage_bucket = $1 AND next_attempt_at <= now()
                               ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED)
      RETURNING d.deletion_id, d.storage_bucket, d.storage_path, d.attempts`,
    [bucket, limit, leaseSeconds],
  );
  return rows;
}

export async function deletionFailed(sql: Sql, id: number, error: string, retryInSeconds: number): Promise<void> {
  await sql.query(
    `UPDATE storage_deletions SET last_error = left($2, 1000), next_attempt_at = now() + make_interval(secs => $3::integer)
      WHERE deletion_id = $1`,
    [id, error, retryInSeconds],
  );
}

/** Deletes a batch of expired rows (the delete trigger queues their objects). */
export async function deleteExpired(sql: Sql, limit: number): Promise<FileRow[]> {
  const { rows } = await sql.query<FileRow>(
    `DELETE FROM files WHERE file_id IN (SELECT file_id FROM clean_expired_files($1)) RETURNING ${COLUMNS}`,
    [limit],
  );
  return rows;
}

export async function staleUploads(sql: Sql, bucket: string, olderThanSeconds: number, limit: number): Promise<string[]> {
  const { rows } = await sql.query<{ storage_path: string }>(
    `SELECT storage_path FROM file_uploads
      WHERE storage_bucket = $1 AND started_at < now() - make_interval(secs => $2::integer)
      ORDER BY started_at LIMIT $3`,
    [bucket, olderThanSeconds, limit],
  );
  return rows.map((r) => r.storage_path);
}

/** Which of these keys something still accounts for: a row, an upload in flight, a queued deletion. */
export async function knownKeys(sql: Sql, bucket: string, keys: string[]): Promise<Set<string>> {
  const { rows } = await sql.query<{ k: string }>(
    `SELECT storage_path AS k FROM files WHERE storage_bucket = $1 AND storage_path = ANY($2::text[])
     UNION SELECT storage_path FROM file_uploads WHERE storage_bucket = $1 AND storage_path = ANY($2::text[])
     UNION SELECT storage_path FROM storage_deletions WHERE storage_bucket = $1 AND storage_path = ANY($2::text[])`,
    [bucket, keys],
  );
  return new Set(rows.map((r) => r.k));
}

/** Takes or renews a named lease; false while another holder's lease is live. */
export async function takeLease(sql: Sql, name: string, holder: string, seconds: number): Promise<boolean> {
  const { rows } = await sql.query(
    `INSERT INTO file_job_leases (name, holder, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3::integer))
     ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
      WHERE file_job_leases.expires_at < now() OR file_job_leases.holder = EXCLUDED.holder
     RETURNING holder`,
    [name, holder, seconds],
  );
  return rows.length === 1;
}

export async function releaseLease(sql: Sql, name: string, holder: string): Promise<void> {
  await sql.query('UPDATE file_job_leases SET expires_at = now() WHERE name = $1 AND holder = $2', [name, holder]);
}

// ---------------------------------------------------------------- scan queue

export interface ScanJob {
  file_id: string;
  attempts: number;
  storage_bucket: string;
  storage_path: string;
}

/** Claims one due scan job with a lease; a worker that dies lets the lease lapse and another takes over. */
export async function claimScanJob(sql: Sql, leaseSeconds: number): Promise<ScanJob | null> {
  const { rows } = await sql.query<ScanJob>(
    `WITH next AS (
       SELECT file_id FROM file_scan_jobs
        WHERE next_attempt_at <= now() AND (locked_until IS NULL OR locked_until < now())
        ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED)
     UPDATE file_scan_jobs j SET attempts = j.attempts + 1, locked_until = now() + make_interval(secs => $1::integer)
       FROM next, files f
      WHERE j.file_id = next.file_id AND f.file_id = j.file_id
     RETURNING j.file_id, j.attempts, f.storage_bucket, f.storage_path`,
    [leaseSeconds],
  );
  return rows[0] ?? null;
}

/** Records the verdict and ends the job; null when the file went away meanwhile. */
export async function finishScan(
  sql: Sql,
  fileId: string,
  status: 'clean' | 'infected' | 'failed',
  detail: Record<string, unknown>,
): Promise<FileRow | null> {
  await sql.query('DELETE FROM file_scan_jobs WHERE file_id = $1', [fileId]);
  const { rows } = await sql.query<FileRow>(
    `UPDATE files SET scan_status = $2, virus_scanned = ($2 <> 'failed'),
            metadata = metadata || jsonb_build_object('scan', $3::jsonb)
      WHERE file_id = $1 AND scan_status = 'pending'
     RETURNING ${COLUMNS}`,
    [fileId, status, JSON.stringify({ ...detail, at: new Date().toISOString() })],
  );
  return rows[0] ?? null;
}

export async function retryScan(sql: Sql, fileId: string, error: string, inSeconds: number): Promise<void> {
  await sql.query(
    `UPDATE file_scan_jobs SET locked_until = NULL, last_error = left($2, 1000),
            next_attempt_at = now() + make_interval(secs => $3::integer)
      WHERE file_id = $1`,
    [fileId, error, inSeconds],
  );
}
