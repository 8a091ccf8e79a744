// Download headers: always an attachment, with an ASCII fallback name for old
// clients and the exact name in RFC 5987/6266 filename*. Types a browser would
// render or execute are never passed through, even with nosniff.

const RISKY_TYPE =
  /^(text\/html|application\/xhtml\+xml|image\/svg\+xml|text\/xml|application\/xml|[a-z]+\/[a-z0-9.+-]*\+xml|text\/javascript|application\/javascript|application\/ecmascript|text\/ecmascript|application\/x-javascript|text\/x-javascript|application\/wasm|text\/xsl|application\/x-shockwave-flash|application\/pdf-script)$/i;

export function isRiskyType(type: string | null | undefined): boolean {
  if (!type) return false;
  const bare = type.split(';')[0]!.trim().toLowerCase();
  return RISKY_TYPE.test(bare) || bare.includes('html') || bare.includes('script');
}

const MIME_RE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/i;

/** A declared type reduced to "type/subtype" when well-formed, else octet-stream. */
export function cleanMimeType(raw: string | null | undefined): string {
  const bare = (raw ?? '').split(';')[0]!.trim().toLowerCase();
  return MIME_RE.test(bare) ? bare : 'application/octet-stream';
}

/**
 * The type a download is served with: what the bytes say when we recognised them,
 * else what the uploader declared, and octet-stream whenever either is something
 * a browser would render as a document or run.
 */
export function servedContentType(declared: string | null, detected: string | null): string {
  if (isRiskyType(declared) || isRiskyType(detected)) return 'application/octet-stream';
  return detected ?? cleanMimeType(declared);
}

// RFC 5987 attr-char: ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~"
function encodeRfc5987(value: string): string {
  return Array.from(Buffer.from(value, 'utf8'))
    .map((b) => {
      const c = String.fromCharCode(b);
      return /[A-Za-z0-9!#$&+\-.^_`|~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

function asciiFallback(name: string): string {
  const ascii = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]/g, '_')
    .replace(/["\\%]/g, '_')
    .trim();
  return ascii.replace(/^_+$/, '') === '' ? 'download' : ascii;
}

export function contentDisposition(fileName: string): string {
  const clean = fileName.replace(/[\u0000-\u001f\u007f]/g, '');
  return `attachment; filename="${asciiFallback(clean)}"; filename*=UTF-8''${encodeRfc5987(clean)}`;
}
