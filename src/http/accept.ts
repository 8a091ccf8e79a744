// Content negotiation between a page and JSON for URLs that people open in a browser
// and programs call (an invite link's `url`).

interface Range {
  type: string;
  subtype: string;
  q: number;
}

function parseAccept(header: string): Range[] {
  const ranges: Range[] = [];
  for (const part of header.split(',')) {
    const [media, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const [type, subtype] = (media ?? '').split('/');
    if (!type || !subtype) continue;
    let q = 1;
    for (const p of params) {
      const m = /^q=([0-9.]+)$/.exec(p);
      if (m) q = Math.min(1, Math.max(0, Number(m[1]) || 0));
    }
    ranges.push({ type, subtype, q });
  }
  return ranges;
}

/** The q of the most specific range matching `type/subtype`, and how specific it was (2 exact, 1 type/*, 0 star/star). */
function match(ranges: Range[], type: string, subtype: string): { q: number; specificity: number } {
  let best = { q: 0, specificity: -1 };
  for (const r of ranges) {
    const specificity =
      r.type === type && r.subtype === subtype ? 2 : r.type === type && r.subtype === '*' ? 1 : r.type === '*' ? 0 : -1;
    if (specificity > best.specificity) best = { q: r.q, specificity };
  }
  return best;
}

/**
 * True when the client asks for HTML over JSON: a browser's navigation
 * (`text/html,...,*\/*;q=0.8`) does, `fetch` (`*\/*`), curl and API clients do not.
 * A tie goes to the range named more exactly, and a full tie to JSON, so that
 * programs keep the contract's JSON unless they name text/html themselves.
 */
export function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  const ranges = parseAccept(accept);
  const html = match(ranges, 'text', 'html');
  const json = match(ranges, 'application', 'json');
  if (html.q === 0) return false;
  if (html.q !== json.q) return html.q > json.q;
  return html.specificity > json.specificity;
}
