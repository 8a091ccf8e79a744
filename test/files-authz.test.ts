// Authorization matrix over every file endpoint: actor x access level x call
// privacy -> expected status. Not visible is 404, visible but not allowed is 403.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { ensureUsers, listen, makeCall, upload, type TestCall } from './helpers/files.ts';

type Actor = 'uploader' | 'creator' | 'participant' | 'stranger' | 'anonymous';
type Level = 'public' | 'call_participants' | 'private';
type Privacy = 'private' | 'public';

const USER: Record<Exclude<Actor, 'anonymous'>, string> = {
  uploader: 'bob',
  creator: 'alice',
  participant: 'carol',
  stranger: 'mallory',
};

interface Expect {
  get: number;
  download: number;
  listed: boolean | number; // number: the list itself answers this status
  del: number;
  upload: number;
}

function expected(actor: Actor, level: Level, privacy: Privacy): Expect {
  if (actor === 'anonymous') return { get: 401, download: 401, listed: 401, del: 401, upload: 401 };
  const member = actor !== 'stranger';
  const callVisible = member || privacy === 'public';
  const visible =
    actor === 'uploader' ||
    (level === 'public' && callVisible) ||
    (level === 'call_participants' && member);
  const mayDelete = actor === 'uploader' || actor === 'creator';
  return {
    get: visible ? 200 : 404,
    download: visible ? 200 : 404,
    listed: callVisible ? visible : 404,
    del: !visible ? 404 : mayDelete ? 204 : 403,
    upload: member ? 201 : callVisible ? 403 : 404,
  };
}

let t: TestApp;
let base: string;
let dataDir: string;
const calls: Partial<Record<Privacy, TestCall>> = {};
const headers = async (actor: Actor): Promise<Record<string, string>> =>
  actor === 'anonymous' ? {} : t.auth(USER[actor]);

before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'auralink-authz-'));
  t = await startTestApp({ env: { DATA_DIR: dataDir } });
  base = await listen(t);
  await ensureUsers(t, ...Object.values(USER));
  calls.private = await makeCall(t, 'alice', ['bob', 'carol'], { privacy: 'private' });
  calls.public = await makeCall(t, 'alice', ['bob', 'carol'], { privacy: 'public' });
});
after(async () => {
  await t?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function share(call: TestCall, level: Level): Promise<string> {
  const res = await upload(base, await t.token('bob'), { callId: call.callId, data: Buffer.from(`${level} file`), accessLevel: level });
  assert.equal(res.status, 201);
  return ((await res.json()) as { file_id: string }).file_id;
}

const actors: Actor[] = ['uploader', 'creator', 'participant', 'stranger', 'anonymous'];
const levels: Level[] = ['public', 'call_participants', 'private'];

for (const privacy of ['private', 'public'] as const) {
  describe(`${privacy} call`, () => {
    for (const level of levels) {
      for (const actor of actors) {
        test(`${level} file, ${actor}`, async () => {
          const call = calls[privacy]!;
          const want = expected(actor, level, privacy);
          const fileId = await share(call, level);
          const h = await headers(actor);
          const got: Record<string, unknown> = {};

          got.get = (await fetch(`${base}/api/v1/files/${fileId}`, { headers: h })).status;
          const dl = await fetch(`${base}/api/v1/files/${fileId}/download`, { headers: h });
          got.download = dl.status;
          if (dl.status === 200) {
            const { url } = (await dl.json()) as { url: string };
            const u = new URL(url);
            const body = await fetch(`${base}${u.pathname}${u.search}`);
            assert.equal(await body.text(), `${level} file`);
          }
          const list = await fetch(`${base}/api/v1/files?call_id=${call.callId}`, { headers: h });
          got.listed =
            list.status === 200
              ? ((await list.json()) as { files: Array<{ file_id: string }> }).files.some((f) => f.file_id === fileId)
              : list.status;
          const byRoom = await fetch(`${base}/api/v1/files?room_name=${call.roomName}`, { headers: h });
          const listedByRoom =
            byRoom.status === 200
              ? ((await byRoom.json()) as { files: Array<{ file_id: string }> }).files.some((f) => f.file_id === fileId)
              : byRoom.status;
          assert.equal(listedByRoom, got.listed, 'room_name lists the same as call_id');
          got.del = (await fetch(`${base}/api/v1/files/${fileId}`, { method: 'DELETE', headers: h })).status;
          got.upload = (await upload(base, actor === 'anonymous' ? null : await t.token(USER[actor]), {
            callId: call.callId,
            data: Buffer.from('x'),
          })).status;

          assert.deepEqual(got, want);
          // A refused delete changed nothing: the uploader still sees the file.
          const after = (await fetch(`${base}/api/v1/files/${fileId}`, { headers: await t.auth('bob') })).status;
          assert.equal(after, want.del === 204 ? 404 : 200);
        });
      }
    }
  });
}

test('RLS alone hides what the matrix expects: a bare SELECT per user', async () => {
  const call = calls.private!;
  const rows = async (name: string | null) =>
    t.ctx.db.asUser(name ? t.userId(name) : null, async (sql) =>
      (await sql.query<{ access_level: string }>('SELECT access_level FROM files WHERE call_id = $1', [call.callId])).rows,
    );
  assert.equal((await rows('mallory')).length, 0);
  assert.equal((await rows(null)).length, 0);
  assert.ok((await rows('carol')).every((r) => r.access_level !== 'private'));
  assert.ok((await rows('bob')).some((r) => r.access_level === 'private'));
});
