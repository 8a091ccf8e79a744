// Real browsers against the real service: Debian's chromium driven by playwright-core,
// the service built in-process on a fresh PostgreSQL database, the real LiveKit of
// scripts/test-services.sh. LiveKit posts its webhooks to TEST_LIVEKIT_BROWSER_WEBHOOK_URL
// (127.0.0.1:18090, a second URL in its config), so the service listens on that port and
// the browsers open the web app there too: one origin for the page, the API and webhooks.
// Only one test file may use that port at a time.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { livekitAppEnv, livekitSkip } from '../helpers/livekit.ts';
import { serviceSkip } from '../helpers/services.ts';

export const chromiumPath = process.env.TEST_CHROMIUM || '/usr/bin/chromium';
export const browserWebhookUrl =
  process.env.TEST_LIVEKIT_BROWSER_WEBHOOK_URL ?? 'http://127.0.0.1:18090/api/v1/webhooks/livekit';
export const screenshotDir = path.resolve(process.env.TEST_SCREENSHOT_DIR ?? 'test-results/screenshots');
const webIndex = path.resolve('web/dist/index.html');

// The flags measured to work here: fake camera and microphone granted without a prompt,
// and nothing that reaches out to the network on its own.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-gpu',
];

export const WIDTHS = [375, 1280] as const;
const HEIGHT: Record<number, number> = { 375: 812, 1280: 800 };

function executable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The `skip` option of a describe that drives browsers: LiveKit, chromium and the built web app. */
export async function browserSkip(): Promise<string | false> {
  const lk = await livekitSkip();
  if (lk) return lk;
  const noChromium = await serviceSkip(
    'Chromium',
    executable(chromiumPath),
    `${chromiumPath} (TEST_CHROMIUM); scripts/test-services.sh installs Debian's chromium`,
  );
  if (noChromium) return noChromium;
  // What `npm start` does first: build web/dist when it is missing or older than its sources.
  const ensure = spawnSync(process.execPath, ['scripts/ensure-web.mjs'], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  process.stderr.write(`${ensure.stdout ?? ''}${ensure.stderr ?? ''}`);
  return serviceSkip('The built web app', fs.existsSync(webIndex), `${webIndex}; build it with npm run build:web`);
}

export interface ApiResult<T = any> {
  status: number;
  body: T;
}

export interface Participant {
  page: Page;
  context: BrowserContext;
  /** Uncaught exceptions and console errors of the page, for the failure message and the report. */
  errors: string[];
}

export interface BrowserRun {
  t: TestApp;
  base: string;
  browser: Browser;
  api<T = any>(user: string, method: string, url: string, payload?: object): Promise<ApiResult<T>>;
  /** A browser context of its own (cookies, storage, fake devices) with one page. */
  open(label: string, width?: number): Promise<Participant>;
  /** Saves `<name>-375.png` and `<name>-1280.png` of the page, then restores its size. */
  shoot(p: Participant, name: string): Promise<string[]>;
  /** Signs in on the start page (as an operator when asked; a screenshot of the filled form when `shot` names one). */
  signIn(p: Participant, name: string, opts?: { operator?: boolean; shot?: string }): Promise<void>;
  /** Creates a room from the signed-in rooms page, inviting `invitees`; resolves with its call id once its page shows. */
  createRoom(p: Participant, name: string, invitees: string): Promise<string>;
  participants: Map<string, Participant>;
  close(): Promise<void>;
}

export async function startBrowserRun(env: Record<string, string> = {}): Promise<BrowserRun> {
  const u = new URL(browserWebhookUrl);
  const base = `${u.protocol}//${u.host}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'auralink-browser-'));
  const t = await startTestApp({
    env: { ...livekitAppEnv(), DATA_DIR: dataDir, STORAGE_BACKEND: 'disk', PUBLIC_BASE_URL: base, ...env },
  });
  await t.app.listen({ host: u.hostname, port: Number(u.port) });
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: CHROMIUM_ARGS });
  fs.mkdirSync(screenshotDir, { recursive: true });
  const participants = new Map<string, Participant>();

  const run: BrowserRun = {
    t,
    base,
    browser,
    participants,
    async api(user, method, url, payload) {
      const res = await t.app.inject({ method: method as 'GET', url: `/api/v1${url}`, headers: await t.auth(user), payload });
      return { status: res.statusCode, body: (res.body ? res.json() : null) as never };
    },
    async open(label, width = 1280) {
      const context = await browser.newContext({
        viewport: { width, height: HEIGHT[width] ?? 800 },
        permissions: ['camera', 'microphone'],
        acceptDownloads: true,
      });
      await context.grantPermissions(['camera', 'microphone', 'clipboard-read', 'clipboard-write'], { origin: base });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(`console.error: ${m.text()}`);
      });
      page.on('response', (r) => {
        if (r.status() >= 400) errors.push(`HTTP ${r.status()} ${r.request().method()} ${r.url()}`);
      });
      // generous: the CI machine may run other work beside three video-encoding browsers
      context.setDefaultTimeout(30_000);
      const p = { page, context, errors };
      participants.set(label, p);
      return p;
    },
    async shoot(p, name) {
      const before = p.page.viewportSize();
      const saved: string[] = [];
      for (const width of WIDTHS) {
        await p.page.setViewportSize({ width, height: HEIGHT[width]! });
        // from the top: a sticky header would otherwise be drawn where the page was scrolled to
        await p.page.evaluate(() => (globalThis as unknown as { scrollTo(x: number, y: number): void }).scrollTo(0, 0));
        await p.page.waitForTimeout(600); // let the layout (and adaptive video) settle at the new width
        const file = path.join(screenshotDir, `${name}-${width}.png`);
        await p.page.screenshot({ path: file, fullPage: true });
        saved.push(file);
      }
      if (before) await p.page.setViewportSize(before);
      return saved;
    },
    async signIn(p, name, { operator = false, shot } = {}) {
      await p.page.goto(`${base}/`);
      await p.page.getByTestId('sign-in-name').fill(name);
      if (operator) await p.page.getByTestId('sign-in-operator').check();
      if (shot) await run.shoot(p, shot);
      await p.page.getByTestId('sign-in-submit').click();
      await p.page.getByTestId('rooms-page').waitFor();
    },
    async createRoom(p, name, invitees) {
      await p.page.getByTestId('room-name').fill(name);
      await p.page.getByTestId('room-invitees').fill(invitees);
      await p.page.getByTestId('create-room-submit').click();
      const roomPage = p.page.getByTestId('room-page');
      await roomPage.waitFor();
      const callId = (await roomPage.getAttribute('data-call-id')) ?? '';
      assert.match(callId, /^[0-9a-f-]{36}$/);
      return callId;
    },
    async close() {
      for (const [label, p] of participants) {
        if (p.errors.length) process.stderr.write(`[browser ${label}] ${p.errors.length} error(s):\n  ${p.errors.slice(0, 20).join('\n  ')}\n`);
        await p.context.close().catch(() => undefined);
      }
      await browser.close().catch(() => undefined);
      await t.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return run;
}

/**
 * Steps of one story that share its state and run in order: after a step fails or
 * times out, the later ones are skipped, not failed again. `progress` writes to
 * stderr, so that when a step times out the last line says where it was.
 */
export function orderedSteps(label: string) {
  let unfinished: string | null = null;
  const step = (name: string, timeout: number, fn: () => Promise<void>) =>
    it(name, { timeout }, async (t) => {
      if (unfinished) return t.skip(`an earlier step did not finish: ${unfinished}`);
      unfinished = name; // stays set when the step throws or times out
      await fn();
      unfinished = null;
    });
  const started = Date.now();
  const progress = (what: string) => process.stderr.write(`[${label} +${((Date.now() - started) / 1000).toFixed(1)} s] ${what}\n`);
  return { step, progress };
}

/** The first and second readings of every <video> the locator matches, `ms` apart. */
export async function videoProgress(page: Page, selector: string, ms = 1000) {
  const read = () =>
    page.locator(selector).evaluateAll((els) =>
      els.map((el) => {
        const v = el as unknown as { videoWidth: number; videoHeight: number; currentTime: number; paused: boolean };
        return { width: v.videoWidth, height: v.videoHeight, time: v.currentTime, paused: v.paused };
      }),
    );
  const first = await read();
  await page.waitForTimeout(ms);
  const second = await read();
  return first.map((a, i) => ({ ...a, advanced: (second[i]?.time ?? 0) - a.time }));
}

/** Waits until some <video> under `selector` shows frames (videoWidth > 0) and plays on (currentTime advances). */
export async function waitForPlayingVideo(page: Page, selector: string, timeoutMs = 30_000): Promise<{ width: number; advanced: number }> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = [];
  for (;;) {
    const readings = await videoProgress(page, `${selector} video`, 700);
    last = readings;
    const playing = readings.find((r) => r.width > 0 && r.advanced > 0.2);
    if (playing) return playing;
    if (Date.now() > deadline) throw new Error(`no playing video under ${selector} within ${timeoutMs} ms: ${JSON.stringify(last)}`);
    await page.waitForTimeout(300);
  }
}
