import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sniffType } from './sniff.ts';

const b = (...parts: Array<string | number[]>) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

test('recognises common binary formats by magic bytes', () => {
  assert.equal(sniffType(b([0x89], 'PNG\r\n', [0x1a, 0x0a], 'rest')), 'image/png');
  assert.equal(sniffType(b([0xff, 0xd8, 0xff, 0xe0])), 'image/jpeg');
  assert.equal(sniffType(b('GIF89a....')), 'image/gif');
  assert.equal(sniffType(b('RIFF', [0, 0, 0, 0], 'WEBPVP8 ')), 'image/webp');
  assert.equal(sniffType(b('%PDF-1.7\n')), 'application/pdf');
  assert.equal(sniffType(b('PK', [3, 4], 'zipdata')), 'application/zip');
  assert.equal(sniffType(b([0, 0, 0, 0x18], 'ftypmp42')), 'video/mp4');
  assert.equal(sniffType(b('MZ', [0x90, 0])), 'application/x-msdownload');
  assert.equal(sniffType(b([0x7f], 'ELF')), 'application/x-executable');
});

test('recognises markup regardless of the declared type', () => {
  assert.equal(sniffType(b('  <!DOCTYPE html><html>')), 'text/html');
  assert.equal(sniffType(b('<script>alert(1)</script>')), 'text/html');
  assert.equal(sniffType(b('<svg xmlns="http://www.w3.org/2000/svg">')), 'image/svg+xml');
  assert.equal(sniffType(b('<?xml version="1.0"?>\n<svg>')), 'image/svg+xml');
  assert.equal(sniffType(b('<?xml version="1.0"?><note/>')), 'application/xml');
  assert.equal(sniffType(b('\ufeff<html>'.replace('\ufeff', '\xef\xbb\xbf'))), 'text/html');
});

test('plain text, unknown binary and empty input', () => {
  assert.equal(sniffType(Buffer.from('hello world\nsecond line', 'utf8')), 'text/plain');
  assert.equal(sniffType(Buffer.from('héllo wörld', 'utf8')), 'text/plain');
  // A multi-byte character cut by the sniff window is still text.
  assert.equal(sniffType(Buffer.from('aé', 'utf8').subarray(0, 2)), 'text/plain');
  assert.equal(sniffType(Buffer.from([0x01, 0x02, 0x03, 0xfe])), null);
  assert.equal(sniffType(Buffer.from('{"a":1}')), null);
  assert.equal(sniffType(Buffer.alloc(0)), null);
});
