import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cleanFileName } from './filename.ts';

test('keeps ordinary names, including non-ASCII', () => {
  assert.equal(cleanFileName('report.pdf'), 'report.pdf');
  assert.equal(cleanFileName('Résumé – 2024.docx'), 'Résumé – 2024.docx');
  assert.equal(cleanFileName('日本語.txt'), '日本語.txt');
});

test('drops path components and traversal, whatever the separator', () => {
  assert.equal(cleanFileName('../../etc/passwd'), 'passwd');
  assert.equal(cleanFileName('..\\..\\windows\\system.ini'), 'system.ini');
  assert.equal(cleanFileName('a/b/../c.txt'), 'c.txt');
  assert.equal(cleanFileName('..'), 'file');
  assert.equal(cleanFileName('../'), 'file');
  assert.equal(cleanFileName('/'), 'file');
});

test('removes control characters, CR/LF, bidi overrides and quotes', () => {
  assert.equal(cleanFileName('evil\r\nSet-Cookie: x.txt'), 'evilSet-Cookie_ x.txt');
  assert.equal(cleanFileName('a\u0000b\u0007c.txt'), 'abc.txt');
  assert.equal(cleanFileName('invoice\u202Efdp.exe'), 'invoicefdp.exe');
  assert.equal(cleanFileName('say "hi".txt'), 'say _hi_.txt');
});

test('no hidden or Windows-reserved names, no trailing dots', () => {
  assert.equal(cleanFileName('.bashrc'), 'bashrc');
  assert.equal(cleanFileName('name.txt...  '), 'name.txt');
  assert.equal(cleanFileName('CON.txt'), '_CON.txt');
  assert.equal(cleanFileName(''), 'file');
  assert.equal(cleanFileName(null), 'file');
  assert.equal(cleanFileName('\u0001\u0002'), 'file');
});

test('limits length to 255 characters, keeping the extension', () => {
  const long = `${'a'.repeat(400)}.tar.gz`;
  const out = cleanFileName(long);
  assert.equal(Array.from(out).length, 255);
  assert.ok(out.endsWith('.gz'));
  const emoji = '😀'.repeat(300);
  assert.equal(Array.from(cleanFileName(emoji)).length, 255);
});
