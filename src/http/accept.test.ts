import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prefersHtml } from './accept.ts';

describe('prefersHtml', () => {
  it('gives browsers opening a link the page', () => {
    // Chromium's and Firefox's navigation headers
    assert.equal(prefersHtml('text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8'), true);
    assert.equal(prefersHtml('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'), true);
    assert.equal(prefersHtml('text/html'), true);
    assert.equal(prefersHtml('text/html, */*'), true);
    assert.equal(prefersHtml('application/json;q=0.5, text/html'), true);
  });

  it('gives programs JSON', () => {
    assert.equal(prefersHtml(undefined), false);
    assert.equal(prefersHtml(''), false);
    assert.equal(prefersHtml('*/*'), false); // fetch, curl
    assert.equal(prefersHtml('application/json'), false);
    assert.equal(prefersHtml('application/json, text/html'), false);
    assert.equal(prefersHtml('text/html;q=0.5, application/json'), false);
    assert.equal(prefersHtml('text/html;q=0, */*'), false);
    assert.equal(prefersHtml('text/*, application/*'), false);
    assert.equal(prefersHtml('garbage,,;;q=x'), false);
  });
});
