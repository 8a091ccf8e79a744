// Opaque keyset cursors: base64url JSON of the last row's sort key. A cursor that
// does not decode to the expected shape is a 400, never a 500.
import { validation } from '../errors.ts';

export function encodeCursor(key: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor<K extends string>(
  cursor: string | undefined,
  fields: Record<K, 'string' | 'number' | 'uuid' | 'timestamp'>,
): Record<K, string> | null {
  if (!cursor) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw validation('cursor is not valid');
  }
  if (!parsed || typeof parsed !== 'object') throw validation('cursor is not valid');
  const out = {} as Record<K, string>;
  for (const [name, kind] of Object.entries(fields) as Array<[K, string]>) {
    const v = (parsed as Record<string, unknown>)[name];
    const ok =
      (kind === 'number' && typeof v === 'number' && Number.isFinite(v)) ||
      (kind === 'string' && typeof v === 'string' && v.length <= 256) ||
      (kind === 'uuid' && typeof v === 'string' && UUID_RE.test(v)) ||
      (kind === 'timestamp' && typeof v === 'string' && !Number.isNaN(Date.parse(v)));
    if (!ok) throw validation('cursor is not valid');
    out[name] = String(v);
  }
  return out;
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Takes limit+1 rows; returns the page and the cursor of its last row when more exist. */
export function page<T>(rows: T[], limit: number, keyOf: (row: T) => Record<string, string | number>) {
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  const last = items[items.length - 1];
  return { items, nextCursor: more && last ? encodeCursor(keyOf(last)) : null };
}
