import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cleanMimeType, contentDisposition, isRiskyType, servedContentType } from './content-disposition.ts';

test('attachment with an ASCII fallback and an RFC 5987 filename*', () => {
  assert.equal(contentDisposition('report.pdf'), `attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`);
  assert.equal(
    contentDisposition('Résumé €.txt'),
    `attachment; filename="Resume _.txt"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%E2%82%AC.txt`,
  );
});

test('quotes, backslashes, percent and CR/LF cannot break the header', () => {
  const v = contentDisposition('a"b\\c%d\r\ne.txt');
  assert.equal(v, `attachment; filename="a_b_c_de.txt"; filename*=UTF-8''a%22b%5Cc%25de.txt`);
  assert.doesNotMatch(v, /[\r\n]/);
  assert.equal(contentDisposition('日本'), `attachment; filename="download"; filename*=UTF-8''%E6%97%A5%E6%9C%AC`);
});

test('markup and scripts are never served as themselves', () => {
  for (const t of ['text/html', 'TEXT/HTML; charset=utf-8', 'image/svg+xml', 'application/xml', 'text/xml',
    'application/xhtml+xml', 'text/javascript', 'application/javascript', 'application/atom+xml']) {
    assert.equal(isRiskyType(t), true, t);
    assert.equal(servedContentType(t, null), 'application/octet-stream', t);
    assert.equal(servedContentType('image/png', t), 'application/octet-stream', t);
  }
  assert.equal(servedContentType('text/plain', 'image/png'), 'image/png');
  assert.equal(servedContentType('application/pdf', null), 'application/pdf');
  assert.equal(servedContentType('not a type', null), 'application/octet-stream');
});

test('declared types are reduced to a bare, well-formed type', () => {
  assert.equal(cleanMimeType('Image/PNG; charset=x'), 'image/png');
  assert.equal(cleanMimeType('text/plain\r\nX-Evil: 1'), 'application/octet-stream');
  assert.equal(cleanMimeType(undefined), 'application/octet-stream');
});
