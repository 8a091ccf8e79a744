// Content type from the first bytes of an upload. Only formats with a reliable
// signature are named; everything else is null and the declared type is kept.
// Markup is detected so that it can be refused inline whatever it was declared as.

export const SNIFF_BYTES = 512;

type Rule = [type: string, test: (b: Buffer) => boolean];

const at = (b: Buffer, offset: number, sig: number[] | string) => {
  const bytes = typeof sig === 'string' ? Buffer.from(sig, 'latin1') : Buffer.from(sig);
  return b.length >= offset + bytes.length && b.subarray(offset, offset + bytes.length).equals(bytes);
};

const RULES: Rule[] = [
  ['image/png', (b) => at(b, 0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])],
  ['image/jpeg', (b) => at(b, 0, [0xff, 0xd8, 0xff])],
  ['image/gif', (b) => at(b, 0, 'GIF87a') || at(b, 0, 'GIF89a')],
  ['image/webp', (b) => at(b, 0, 'RIFF') && at(b, 8, 'WEBP')],
  ['audio/wav', (b) => at(b, 0, 'RIFF') && at(b, 8, 'WAVE')],
  ['video/x-msvideo', (b) => at(b, 0, 'RIFF') && at(b, 8, 'AVI ')],
  ['image/bmp', (b) => at(b, 0, 'BM') && b.length >= 14],
  ['image/tiff', (b) => at(b, 0, [0x49, 0x49, 0x2a, 0x00]) || at(b, 0, [0x4d, 0x4d, 0x00, 0x2a])],
  ['image/x-icon', (b) => at(b, 0, [0x00, 0x00, 0x01, 0x00])],
  ['image/avif', (b) => at(b, 4, 'ftypavif')],
  ['image/heic', (b) => at(b, 4, 'ftypheic') || at(b, 4, 'ftypheix') || at(b, 4, 'ftypmif1')],
  ['video/quicktime', (b) => at(b, 4, 'ftypqt')],
  ['video/mp4', (b) => at(b, 4, 'ftyp')],
  ['video/webm', (b) => at(b, 0, [0x1a, 0x45, 0xdf, 0xa3])],
  ['audio/mpeg', (b) => at(b, 0, 'ID3') || (b.length > 1 && b[0] === 0xff && (b[1]! & 0xe0) === 0xe0)],
  ['audio/ogg', (b) => at(b, 0, 'OggS')],
  ['audio/flac', (b) => at(b, 0, 'fLaC')],
  ['application/pdf', (b) => at(b, 0, '%PDF-')],
  ['application/zip', (b) => at(b, 0, [0x50, 0x4b, 0x03, 0x04]) || at(b, 0, [0x50, 0x4b, 0x05, 0x06])],
  ['application/gzip', (b) => at(b, 0, [0x1f, 0x8b])],
  ['application/x-7z-compressed', (b) => at(b, 0, [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c])],
  ['application/vnd.rar', (b) => at(b, 0, 'Rar!\x1a\x07')],
  ['application/x-bzip2', (b) => at(b, 0, 'BZh')],
  ['application/x-xz', (b) => at(b, 0, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])],
  ['application/wasm', (b) => at(b, 0, [0x00, 0x61, 0x73, 0x6d])],
  ['application/x-executable', (b) => at(b, 0, [0x7f, 0x45, 0x4c, 0x46])],
  ['application/x-msdownload', (b) => at(b, 0, 'MZ')],
  ['application/x-mach-binary', (b) => at(b, 0, [0xcf, 0xfa, 0xed, 0xfe]) || at(b, 0, [0xfe, 0xed, 0xfa, 0xcf])],
];

function sniffText(head: Buffer): string | null {
  let text = head.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (/[\u0000-\u0008\u000e-\u001a\u001c-\u001f]/.test(text)) return null; // binary
  const start = text.trimStart().slice(0, 256).toLowerCase();
  // Order matters: an SVG usually starts with an XML declaration.
  if (/^(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!doctype svg|<svg[\s>])/.test(start)) return 'image/svg+xml';
  if (/^(<!doctype html|<html[\s>]|<head[\s>]|<body[\s>]|<script[\s>]|<iframe[\s>]|<!--)/.test(start)) return 'text/html';
  if (start.startsWith('<?xml')) return 'application/xml';
  if (start.startsWith('%!ps')) return 'application/postscript';
  if (/^[{[]/.test(start)) return null; // could be JSON, could be text: let the declared type stand
  try {
    // stream: true tolerates a multi-byte character cut at the end of the window.
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
    return 'text/plain';
  } catch {
    return null;
  }
}

/** The detected type of a file from its first (up to SNIFF_BYTES) bytes, or null when unknown. */
export function sniffType(head: Buffer): string | null {
  if (head.length === 0) return null;
  for (const [type, test] of RULES) if (test(head)) return type;
  return sniffText(head.subarray(0, SNIFF_BYTES));
}
