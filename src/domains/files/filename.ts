// Client-supplied file names are display text only (storage keys never contain
// them), but they end up in headers, on disks of people who download them and in
// UIs, so they are reduced to one safe path component.

const MAX_CHARS = 255;
// C0/C1 controls, DEL, bidi overrides/isolates (they disguise extensions:
// "invoice\u202Efdp.exe"), zero-width and BOM characters.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;
// Reserved on Windows; a download saved as "CON.txt" cannot be opened there.
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

export function cleanFileName(raw: string | null | undefined, fallback = 'file'): string {
  let name = (raw ?? '').normalize('NFC').replace(UNSAFE, '');
  // Keep only the last path component, whichever separator the client's OS uses.
  name = name.split(/[\\/]/).pop() ?? '';
  // Characters Windows refuses in names become "_"; leading dots would hide the file.
  name = name.replace(/[<>:"|?*]/g, '_').replace(/^[\s.]+/, '').replace(/[\s.]+$/, '').replace(/\s+/g, ' ');
  if (name === '' || WINDOWS_RESERVED.test(name)) name = name === '' ? fallback : `_${name}`;
  return truncate(name, MAX_CHARS);
}

/** Shortens to max code points, keeping a short extension so the type stays recognisable. */
function truncate(name: string, max: number): string {
  const chars = Array.from(name);
  if (chars.length <= max) return name;
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 ? Array.from(name.slice(dot)) : [];
  if (ext.length > 0 && ext.length <= 16) return chars.slice(0, max - ext.length).join('') + ext.join('');
  return chars.slice(0, max).join('');
}
