// After a real call in real browsers: the call's page shows both people on the timeline
// and quality plots with points, the history lists the call, the operator overview
// counts it in today's usage, and a non-operator sees nothing of the operator pages.
// Screenshots of each view land in test-results/screenshots (history-*, operator-*).
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { eventually } from '../helpers/livekit.ts';
import { browserSkip, orderedSteps, startBrowserRun, waitForPlayingVideo, type BrowserRun, type Participant } from './harness.ts';

const tile = (identity: string) => `[data-testid="video-tile"][data-participant-identity="${identity}"][data-source="camera"]`;

describe('call history, call page and operator views after a real call', { skip: await browserSkip() }, () => {
  let run: BrowserRun;
  let host: Participant;
  let invitee: Participant;
  let callId = '';
  let aliceId = '';
  let bobId = '';

  const { step, progress } = orderedSteps('history test');

  async function join(p: Participant) {
    await p.page.getByTestId('prejoin').waitFor();
    await waitForPlayingVideo(p.page, '[data-testid="prejoin"]', 15_000);
    await p.page.getByTestId('join-button').click();
    await p.page.getByTestId('call').waitFor({ timeout: 20_000 });
  }

  before(async () => {
    run = await startBrowserRun();
    aliceId = run.t.userId('alice');
    bobId = run.t.userId('bob');
    host = await run.open('alice');
    invitee = await run.open('bob', 375);
  });
  after(async () => {
    await run?.close();
  });

  step('two people hold a short call with camera and microphone, then leave', 180_000, async () => {
    await run.signIn(invitee, 'bob');
    await run.signIn(host, 'alice');
    callId = await run.createRoom(host, 'History call', '@bob.aura');
    await join(host);

    // the invitee opens the room before joining: no request that can only fail (404)
    await invitee.page.reload();
    await invitee.page.locator(`[data-testid="room-item"][data-call-id="${callId}"] [data-testid="room-link"]`).click();
    await invitee.page.getByTestId('prejoin').waitFor();
    await invitee.page.waitForTimeout(500);
    assert.deepEqual(invitee.errors.filter((e) => e.includes('/participants')), [], 'no failed participants request before joining');
    await join(invitee);
    await waitForPlayingVideo(host.page, tile(bobId));
    await waitForPlayingVideo(invitee.page, tile(aliceId));
    progress(`call ${callId}: both see each other; waiting for quality samples from both browsers`);

    // an invite link with one visit, for the links section
    const link = await run.api('alice', 'POST', '/links', { call_id: callId, title: 'Team link' });
    assert.equal(link.status, 201, JSON.stringify(link.body));
    await run.t.app.inject({ method: 'GET', url: `/api/v1/join/${link.body.short_code}` });

    await eventually(
      async () => {
        const res = await run.api('alice', 'GET', `/calls/${callId}/quality/participants`);
        const ids = new Set(res.body.participants.filter((p: { points: unknown[] }) => p.points.length > 0).map((p: { user_id: string }) => p.user_id));
        return ids.has(aliceId) && ids.has(bobId) ? true : undefined;
      },
      60_000,
      'quality points from alice and bob',
    );

    await invitee.page.getByTestId('leave-button').click();
    await invitee.page.getByTestId('left-call').waitFor({ timeout: 15_000 });
    await host.page.getByTestId('leave-button').click();
    await host.page.getByTestId('left-call').waitFor({ timeout: 15_000 });
    // leaving does not turn the camera back on by itself
    assert.equal(await host.page.getByTestId('prejoin-camera-on').isChecked(), false);
    await host.page.getByTestId('prejoin-preview-off').waitFor();
    // the badge follows the API: nobody connected (or the room already closed)
    await host.page.waitForFunction(() => {
      const d = (globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } }).document;
      const text = d.querySelector('[data-testid="room-status"]')?.textContent ?? '';
      return /no one connected|ended/i.test(text);
    }, undefined, { timeout: 20_000 });
    await run.shoot(host, 'room-after-leaving');
    await eventually(
      async () => {
        const res = await run.api('alice', 'GET', `/calls/${callId}/participants`);
        const l = res.body.participants as Array<{ status: string; joined_at: string | null }>;
        const joined = l.filter((p) => p.joined_at);
        return joined.length >= 2 && joined.every((p) => p.status === 'left') ? true : undefined;
      },
      20_000,
      'both left (LiveKit webhooks)',
    );
  });

  step('the history lists the call with its people; the call page shows the timeline and quality plots', 60_000, async () => {
    await host.page.getByTestId('nav-history').click();
    const row = host.page.locator(`[data-testid="history-row"][data-call-id="${callId}"]`);
    await row.waitFor();
    assert.match(await row.getByTestId('history-people').innerText(), /2 people/);
    await run.shoot(host, 'history-list');

    await row.locator('a').click();
    const page = host.page.getByTestId('call-page');
    await page.waitFor();
    assert.equal(await page.getAttribute('data-view'), 'user');
    const people = host.page.getByTestId('timeline-person');
    await people.first().waitFor();
    const identities = await people.evaluateAll((els) => els.map((e) => e.getAttribute('data-identity')));
    assert.ok(identities.includes(aliceId) && identities.includes(bobId), JSON.stringify(identities));
    for (const id of [aliceId, bobId]) {
      const types = await host.page
        .locator(`[data-testid="timeline-person"][data-identity="${id}"] [data-testid="timeline-event"]`)
        .evaluateAll((els) => els.map((e) => `${e.getAttribute('data-type')}:${e.getAttribute('data-source') ?? ''}`));
      assert.ok(types.includes('joined:') && types.includes('left:'), `${id}: ${types.join(', ')}`);
      assert.ok(types.includes('published:camera') && types.includes('published:microphone'), `${id}: ${types.join(', ')}`);
    }
    // one uPlot chart per metric, a line per person, with points
    for (const metric of ['rtt_ms', 'jitter_ms', 'packet_loss_percent', 'bitrate_kbps', 'mos']) {
      const chart = host.page.locator(`[data-testid="quality-chart"][data-metric="${metric}"]`);
      await chart.locator('canvas').waitFor();
      assert.equal(await chart.getAttribute('data-series'), '2', metric);
    }
    for (const metric of ['bitrate_kbps', 'mos']) {
      const points = Number(await host.page.locator(`[data-testid="quality-chart"][data-metric="${metric}"]`).getAttribute('data-points'));
      assert.ok(points >= 2, `${metric}: ${points} points`);
    }
    await host.page.locator('[data-testid="call-link-row"]').first().waitFor();
    // the link's one visit: one click and one unique visitor, on a week of days
    const visits = host.page.getByTestId('link-visits');
    await visits.getByTestId('link-visits-chart').locator('canvas').waitFor();
    assert.deepEqual(
      await Promise.all(['data-clicks', 'data-unique-visitors', 'data-days'].map((a) => visits.getAttribute(a))),
      ['1', '1', '7'],
    );
    await run.shoot(host, 'history-call');
  });

  step('a non-operator sees nothing of the operator pages', 30_000, async () => {
    await invitee.page.goto(`${run.base}/admin`);
    await invitee.page.getByRole('heading', { name: 'Not found' }).waitFor();
    assert.equal(await invitee.page.getByTestId('operator-overview').count(), 0);
    assert.equal(await invitee.page.getByTestId('nav-operator').count(), 0);
    await invitee.page.goto(`${run.base}/admin/calls/${callId}`);
    await invitee.page.getByRole('heading', { name: 'Not found' }).waitFor();
    assert.equal(await invitee.page.getByTestId('call-page').count(), 0);
    assert.equal(await invitee.page.getByTestId('nav-history').count(), 1);
    await run.shoot(invitee, 'operator-denied');
  });

  step("an operator sees the call in today's usage, finds it in all calls and opens its page", 60_000, async () => {
    const op = await run.open('olga');
    await run.signIn(op, 'olga', { operator: true });
    await op.page.getByTestId('nav-operator').click();
    await op.page.getByTestId('operator-overview').waitFor();
    const minutes = Number(await op.page.getByTestId('operator-today-minutes').getAttribute('data-value'));
    assert.ok(minutes > 0, `today's participant-minutes: ${minutes}`);
    assert.ok(Number(await op.page.getByTestId('operator-today-calls').getAttribute('data-value')) >= 1);
    const usage = op.page.getByTestId('usage-chart');
    await usage.locator('canvas').waitFor();
    assert.equal(await usage.getAttribute('data-points'), '30');
    await op.page.locator(`[data-testid="worst-call-row"][data-call-id="${callId}"]`).waitFor();
    await run.shoot(op, 'operator-overview');

    await op.page.getByRole('link', { name: 'All calls' }).click();
    await op.page.getByTestId('operator-calls-search').fill('History');
    const row = op.page.locator(`[data-testid="operator-call-row"][data-call-id="${callId}"]`);
    await row.waitFor();
    await run.shoot(op, 'operator-calls');
    await row.getByRole('link').click();
    const page = op.page.getByTestId('call-page');
    await page.waitFor();
    assert.equal(await page.getAttribute('data-view'), 'operator');
    assert.ok((await op.page.getByTestId('timeline-person').count()) >= 2);
    // the operator's page plots quality per person like the user's (no table of averages)
    const mosChart = op.page.locator('[data-testid="quality-chart"][data-metric="mos"]');
    await mosChart.locator('canvas').waitFor();
    assert.equal(await mosChart.getAttribute('data-series'), '2');
    assert.ok(Number(await mosChart.getAttribute('data-points')) >= 2);
    await op.page.getByTestId('link-visits-chart').locator('canvas').waitFor();
    await run.shoot(op, 'operator-call');
    assert.deepEqual(op.errors.filter((e) => e.startsWith('HTTP')), [], 'the operator pages had no failed request');
  });
});
