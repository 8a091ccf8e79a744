// Helpers for the files tests: calls and participants made directly in SQL (so the
// tests do not depend on the rooms code), multipart uploads over real HTTP.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import type { TestApp } from './app.ts';

export async function ensureUsers(t: TestApp, ...names: string[]): Promise<void> {
  for (const n of names) {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/users/me', headers: await t.auth(n) });
    if (res.statusCode !== 200) throw new Error(`users/me for ${n}: ${res.statusCode} ${res.body}`);
  }
}

export interface TestCall {
  callId: string;
  roomName: string;
}

/** A call created by `creator`, with `participants` joined (call_participants rows). */
export async function makeCall(
  t: TestApp,
  creator: string,
  participants: string[] = [],
  opts: { fileSharing?: boolean; privacy?: 'private' | 'public' } = {},
): Promise<TestCall> {
  await ensureUsers(t, creator, ...participants);
  const roomName = `room-${crypto.randomBytes(6).toString('hex')}`;
  const callId = await t.ctx.db.privileged(async (sql) => {
    const { rows } = await sql.query<{ call_id: string }>(
      `INSERT INTO calls (room_name, name, created_by, file_sharing_enabled, privacy)
       VALUES ($1, $2, $3, $4, $5) RETURNING call_id`,
      [roomName, 'Test call', t.userId(creator), opts.fileSharing ?? true, opts.privacy ?? 'private'],
    );
    const id = rows[0]!.call_id;
    for (const p of participants) {
      await sql.query(
        `INSERT INTO call_participants (call_id, user_id, identity, status) VALUES ($1, $2, $3, 'connected')`,
        [id, t.userId(p), p],
      );
    }
    return id;
  });
  return { callId, roomName };
}

export async function listen(t: TestApp): Promise<string> {
  const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
  return address.replace('localhost', '127.0.0.1');
}

export interface UploadInput {
  callId?: string;
  roomName?: string;
  data: Uint8Array | Blob;
  fileName?: string;
  type?: string;
  accessLevel?: string;
  expiresInSeconds?: number;
  /** Put the file part before the fields (fields then arrive after the bytes). */
  fileFirst?: boolean;
}

export async function upload(base: string, token: string | null, input: UploadInput): Promise<Response> {
  const form = new FormData();
  const blob = input.data instanceof Blob ? input.data : new Blob([input.data as Uint8Array<ArrayBuffer>], { type: input.type ?? 'application/octet-stream' });
  const addFile = () => form.append('file', blob, input.fileName ?? 'data.bin');
  if (input.fileFirst) addFile();
  if (input.callId) form.append('call_id', input.callId);
  if (input.roomName) form.append('room_name', input.roomName);
  if (input.accessLevel) form.append('access_level', input.accessLevel);
  if (input.expiresInSeconds !== undefined) form.append('expires_in_seconds', String(input.expiresInSeconds));
  if (!input.fileFirst) addFile();
  return fetch(`${base}/api/v1/files`, {
    method: 'POST',
    body: form,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
}

/** Every object key in the backend under files/. */
export async function storedKeys(t: TestApp): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of t.ctx.storage.list('files/')) keys.push(o.key);
  return keys.sort();
}

export async function countRows(t: TestApp, table: 'files' | 'file_uploads' | 'storage_deletions' | 'file_scan_jobs'): Promise<number> {
  return t.ctx.db.privileged(async (sql) => {
    const { rows } = await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
    return rows[0]!.n;
  });
}

/** No object, file row or upload record is left (cleanup after a refused upload may finish just after the reply). */
export async function nothingLeft(t: TestApp): Promise<void> {
  for (let i = 0; i < 250 && ((await storedKeys(t)).length > 0 || (await countRows(t, 'file_uploads')) > 0); i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.deepEqual(await storedKeys(t), []);
  assert.equal(await countRows(t, 'files'), 0);
  assert.equal(await countRows(t, 'file_uploads'), 0);
}

export function sha256(data: Uint8Array): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

/** The EICAR test string, assembled at runtime so this file is never a signature hit itself. */
export function eicar(): string {
  return ['X5O!P%@AP[4\\PZX54(P^)7CC)7}', '$EICAR-STANDARD-ANTIVIRUS', '-TEST-FILE!$H+H*'].join('');
}
