// An invite link's `url` is a page for browsers and the JSON preview for programs
// (API.md v1.1), and only the JSON counts a click.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from './helpers/app.ts';

// Chromium's header when a person opens a link
const NAVIGATION = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

describe('the guest join page', () => {
  let t: TestApp;
  let link: { link_id: string; short_code: string; url: string };

  const get = async (url: string, accept?: string) =>
    t.app.inject({ method: 'GET', url, headers: accept === undefined ? {} : { accept } });
  const clicks = async () => {
    const res = await t.app.inject({ method: 'GET', url: `/api/v1/links/${link.link_id}`, headers: await t.auth('alice') });
    assert.equal(res.statusCode, 200, res.body);
    return res.json().total_clicks as number;
  };

  before(async () => {
    t = await startTestApp({ env: { PUBLIC_BASE_URL: 'https://calls.example.test' } });
    const api = async (method: string, url: string, payload: object) =>
      (await t.app.inject({ method: method as 'POST', url: `/api/v1${url}`, headers: await t.auth('alice'), payload })).json();
    const room = await api('POST', '/rooms', { name: 'Join page' });
    link = await api('POST', '/links', { call_id: room.call_id, title: 'Standup', access_type: 'password', password: 'open sesame', require_approval: true });
    assert.match(link.url, /^https:\/\/calls\.example\.test\/api\/v1\/join\//);
  });
  after(() => t?.close());

  it("answers a browser with the web app's page, counting no click", async () => {
    const path = new URL(link.url).pathname;
    const app = await get('/', NAVIGATION);
    for (const accept of [NAVIGATION, 'text/html']) {
      const res = await get(path, accept);
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      assert.match(String(res.headers.vary), /accept/i);
      assert.match(res.body, /<html/i);
      // the same document as the app at / (index.html, or the "not built" page): the app routes itself
      assert.equal(res.body, app.body);
    }
    assert.equal(await clicks(), 0);
    // An unknown code is still the page: it fetches the preview and shows "not found" itself.
    const unknown = await get('/api/v1/join/NoSuchCode00', NAVIGATION);
    assert.equal(unknown.statusCode, 200);
    assert.match(String(unknown.headers['content-type']), /^text\/html/);
  });

  it('answers programs with the JSON preview, which counts the click', async () => {
    const path = new URL(link.url).pathname;
    let expected = 0;
    for (const accept of [undefined, '*/*', 'application/json', 'application/json, text/html', 'text/html;q=0.5, application/json']) {
      const res = await get(path, accept);
      assert.equal(res.statusCode, 200, `${accept}: ${res.body}`);
      assert.match(String(res.headers['content-type']), /^application\/json/, String(accept));
      assert.match(String(res.headers.vary), /accept/i);
      const preview = res.json();
      assert.equal(preview.title, 'Standup');
      assert.equal(preview.requires_password, true);
      assert.equal(preview.require_approval, true);
      assert.equal(await clicks(), ++expected, `clicks after Accept: ${accept}`);
    }
    const unknown = await get('/api/v1/join/NoSuchCode00', 'application/json');
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().error.code, 'NOT_FOUND');
  });
});
