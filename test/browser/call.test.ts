// A real call in real browsers: two signed-in people and a guest from an invite link,
// in three headless chromium contexts with fake camera and microphone, through the real
// LiveKit, with the participants' state set by LiveKit's own webhooks. The steps share
// one call and run in order; screenshots of every page land in test-results/screenshots.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe } from 'node:test';
import type { Page } from 'playwright-core';
import { eventually } from '../helpers/livekit.ts';
import { browserSkip, browserWebhookUrl, orderedSteps, startBrowserRun, waitForPlayingVideo, type BrowserRun, type Participant } from './harness.ts';

interface ApiParticipant {
  identity: string;
  user_id: string | null;
  display_name: string | null;
  status: string;
  joined_at: string | null;
  left_at: string | null;
  audio_enabled: boolean;
  video_enabled: boolean;
}

const PASSWORD = 'open sesame 42';
const FILE = { name: 'agenda.txt', mimeType: 'text/plain', buffer: Buffer.from('1. fake cameras\n2. real LiveKit\n') };

const tile = (identity: string) => `[data-testid="video-tile"][data-participant-identity="${identity}"][data-source="camera"]`;
const namedTile = (name: string) => `[data-testid="video-tile"][data-participant-name="${name}"][data-source="camera"]`;
const webhookHint = `LiveKit posts webhooks to ${browserWebhookUrl}? (bash scripts/test-services.sh start configures it)`;

describe('a call in real browsers', { skip: await browserSkip() }, () => {
  let run: BrowserRun;
  let host: Participant;
  let invitee: Participant;
  let guest: Participant;
  let callId = '';
  let aliceId = '';
  let bobId = '';

  // The steps share one call.
  const { step, progress } = orderedSteps('browser test');

  const participants = async () => {
    const res = await run.api<{ participants: ApiParticipant[] }>('alice', 'GET', `/calls/${callId}/participants`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.participants;
  };

  async function joinFromLobby(p: Participant, shot?: string) {
    const prejoin = p.page.getByTestId('prejoin');
    await prejoin.waitFor();
    // the preview plays the fake camera before anyone joins
    await waitForPlayingVideo(p.page, '[data-testid="prejoin"]', 15_000);
    assert.equal(await p.page.getByTestId('prejoin-camera-on').isChecked(), true);
    assert.equal(await p.page.getByTestId('prejoin-microphone-on').isChecked(), true);
    if (shot) await run.shoot(p, shot);
    await p.page.getByTestId('join-button').click();
    await p.page.getByTestId('call').waitFor({ timeout: 20_000 });
  }

  before(async () => {
    run = await startBrowserRun();
    aliceId = run.t.userId('alice');
    bobId = run.t.userId('bob');
    host = await run.open('alice');
    invitee = await run.open('bob');
    guest = await run.open('guest');
  });
  after(async () => {
    await run?.close();
  });

  step('the host creates a room with an invitee; both join and see each other', 120_000, async () => {
    await run.signIn(invitee, 'bob', { shot: 'sign-in' });
    await run.signIn(host, 'alice');
    await run.shoot(host, 'rooms');

    callId = await run.createRoom(host, 'Browser call', '@bob.aura');
    progress(`room ${callId} created; the host joins`);
    await joinFromLobby(host, 'room-lobby');

    // the invitee finds the room in the list (invited, not created by them) and joins
    await invitee.page.reload();
    await invitee.page.locator(`[data-testid="room-item"][data-call-id="${callId}"] [data-testid="room-link"]`).click();
    progress('the invitee joins');
    await joinFromLobby(invitee);

    progress('both joined; waiting for each other\'s video');
    const seenByHost = await waitForPlayingVideo(host.page, tile(bobId));
    const seenByInvitee = await waitForPlayingVideo(invitee.page, tile(aliceId));
    assert.ok(seenByHost.width > 0 && seenByInvitee.width > 0);
    await run.shoot(host, 'call-host');
  });

  step("the API shows both connected with audio and video, from LiveKit's webhooks", 30_000, async () => {
    const list = await eventually(
      async () => {
        const l = await participants();
        const ok = [aliceId, bobId].every((id) => {
          const p = l.find((x) => x.user_id === id);
          return p?.status === 'connected' && p.video_enabled && p.audio_enabled;
        });
        return ok ? l : undefined;
      },
      20_000,
      `alice and bob connected with video (${webhookHint})`,
    );
    for (const p of list.filter((x) => x.status === 'connected')) assert.ok(p.joined_at, `${p.identity} has joined_at`);
    const call = await run.api('alice', 'GET', `/calls/${callId}`);
    assert.equal(call.body.status, 'active');
  });

  step('a guest uses a password-protected invite link and waits until the host lets them in', 150_000, async () => {
    // the host makes the link in the call's side panel
    await host.page.getByTestId('invite-access').selectOption('password');
    await host.page.getByTestId('invite-password').fill(PASSWORD);
    assert.equal(await host.page.getByTestId('invite-require-approval').isChecked(), true);
    await host.page.getByTestId('invite-create').click();
    const url = await host.page.getByTestId('invite-url').inputValue({ timeout: 10_000 });
    assert.ok(url.startsWith(`${run.base}/api/v1/join/`), url);

    progress(`invite link ${url}`);
    // the link's url is a page in a browser
    await guest.page.goto(url);
    await guest.page.getByTestId('join-preview').waitFor();
    assert.match(await guest.page.getByTestId('join-title').innerText(), /Browser call/);
    await guest.page.getByTestId('guest-display-name').fill('Gwen');
    await guest.page.getByTestId('guest-password').fill('not the password');
    await guest.page.getByTestId('join-button').click();
    const error = guest.page.getByTestId('error-message');
    await error.waitFor();
    assert.match(await error.innerText(), /wrong password/i);
    await run.shoot(guest, 'guest-wrong-password');

    progress('wrong password refused; now the right one');
    await guest.page.getByTestId('guest-password').fill(PASSWORD);
    await guest.page.getByTestId('join-button').click();
    await guest.page.locator('[data-testid="waiting-status"][data-status="pending"]').waitFor();
    await run.shoot(guest, 'guest-waiting');

    // the request appears on the host's page live (event stream), and one click admits
    const marker = await host.page.evaluate(() => {
      const w = globalThis as unknown as { __noReload?: number };
      w.__noReload = Math.random();
      return w.__noReload;
    });
    const request = host.page.locator('[data-testid="join-request"][data-display-name="Gwen"]');
    await request.waitFor({ timeout: 15_000 });
    // and in the notice by the call title, whatever the side column is scrolled to
    await host.page.getByTestId('join-request-notice').waitFor();
    await run.shoot(host, 'host-join-request');
    await request.getByTestId('join-request-approve').click();
    progress('the host admitted the guest');

    await guest.page.getByTestId('guest-call').waitFor();
    await guest.page.getByTestId('call').waitFor();
    progress('the guest is in the call; waiting for video');
    await waitForPlayingVideo(host.page, namedTile('Gwen'), 60_000);
    await waitForPlayingVideo(guest.page, tile(aliceId));
    const same = await host.page.evaluate(() => (globalThis as unknown as { __noReload?: number }).__noReload);
    assert.equal(same, marker, "the host's page was not reloaded");
    await run.shoot(host, 'call-three');
    await run.shoot(guest, 'guest-call');
  });

  step('a file uploaded in one browser appears in the other and downloads', 60_000, async () => {
    await invitee.page.getByTestId('file-upload-input').setInputFiles(FILE);
    const row = host.page.locator(`[data-testid="file-row"][data-file-name="${FILE.name}"]`);
    await row.waitFor({ timeout: 20_000 });
    await host.page.waitForFunction(
      (name) => {
        const d = (globalThis as unknown as { document: { querySelector(s: string): { getAttribute(a: string): string | null } | null } }).document;
        const status = d.querySelector(`[data-testid="file-row"][data-file-name="${name}"]`)?.getAttribute('data-scan-status');
        return status !== undefined && status !== null && status !== 'pending';
      },
      FILE.name,
      { timeout: 20_000 },
    );
    const [download] = await Promise.all([host.page.waitForEvent('download'), row.getByTestId('file-download').click()]);
    assert.equal(download.suggestedFilename(), FILE.name);
    const saved = await download.path();
    assert.deepEqual(fs.readFileSync(saved), FILE.buffer);
  });

  step("the call's quality has samples from the browsers' WebRTC statistics", 60_000, async () => {
    // posted by each page about every 10 s: the signed-in ones with their session, the
    // guest (in the call since the step before last) with its join's quality_token
    const report = await eventually(
      async () => {
        const res = await run.api('alice', 'GET', `/calls/${callId}/quality`);
        const by = (id: string | null, name?: string) =>
          res.body.participants.find(
            (p: { user_id: string | null; display_name: string | null }) => p.user_id === id && (!name || p.display_name === name),
          );
        return by(aliceId)?.samples > 0 && by(bobId)?.samples > 0 && by(null, 'Gwen')?.samples > 0 ? res.body : undefined;
      },
      45_000,
      'quality samples from alice, bob and the guest',
    );
    assert.ok(report.summary.samples >= 3);
    const rows = await run.t.ctx.db.privileged(
      async (sql) =>
        (
          await sql.query<{ user_id: string | null; display_name: string; samples: string; bitrate: string | null; ice_state: string | null }>(
            `SELECT p.user_id, p.display_name, count(*) AS samples,
                    max(greatest(coalesce(q.video_bitrate_kbps, 0), coalesce(q.audio_bitrate_kbps, 0))) AS bitrate,
                    max(q.ice_state) AS ice_state
               FROM quality_metrics q JOIN call_participants p USING (participant_id)
              WHERE q.call_id = $1 GROUP BY p.user_id, p.display_name`,
            [callId],
          )
        ).rows,
    );
    for (const id of [aliceId, bobId, 'Gwen']) {
      const r = rows.find((x) => x.user_id === id || (x.user_id === null && x.display_name === id));
      assert.ok(r, `samples from ${id}`);
      assert.ok(Number(r.bitrate) > 0, `a bitrate above zero from ${id}: ${JSON.stringify(r)}`);
      assert.ok(r.ice_state, `the browser's ICE state from ${id}`);
    }
  });

  step("everyone leaves; the call's history has each participant with join and leave times", 60_000, async () => {
    const leave = async (p: Page) => {
      await p.getByTestId('leave-button').click();
      await p.getByTestId('left-call').waitFor({ timeout: 15_000 });
    };
    await leave(guest.page);
    await leave(invitee.page);
    await leave(host.page);
    const history = await eventually(
      async () => {
        const l = await participants();
        return l.length >= 3 && l.every((p) => p.status === 'left' && p.joined_at && p.left_at) ? l : undefined;
      },
      20_000,
      `every participant left (${webhookHint})`,
    );
    const names = history.map((p) => p.display_name).sort();
    assert.ok(names.includes('Gwen'), JSON.stringify(names));
    assert.ok(history.some((p) => p.user_id === aliceId) && history.some((p) => p.user_id === bobId));
    for (const p of history) assert.ok(Date.parse(p.left_at!) >= Date.parse(p.joined_at!), `${p.identity}: left after joining`);
    // the host's page shows the same history
    await host.page.locator('[data-testid="participant-row"][data-status="left"]').nth(2).waitFor({ timeout: 15_000 });
    await run.shoot(host, 'history');
  });
});
