import { type FormEvent, useCallback, useEffect, useState } from 'react';
import type { RequestBodyOf } from '@auralink/client';
import { api, type Link, unwrap } from '../api/api.ts';
import { ErrorMessage } from '../ui/ErrorMessage.tsx';

type NewLink = RequestBodyOf<'/api/v1/links', 'post'>;

const EXPIRY: Array<[string, number | null]> = [
  ['1 hour', 3600],
  ['1 day', 86_400],
  ['7 days', 7 * 86_400],
  ['Never', null],
];

export function InvitePanel({ callId }: { callId: string }) {
  const [links, setLinks] = useState<Link[]>([]);
  const [access, setAccess] = useState<'public' | 'password'>('public');
  const [password, setPassword] = useState('');
  const [approval, setApproval] = useState(true);
  const [expiry, setExpiry] = useState('1 day');
  const [maxUses, setMaxUses] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<Link | null>(null);

  const load = useCallback(() => {
    api
      .GET('/api/v1/links', { params: { query: { call_id: callId, limit: 20 } } })
      .then((r) => setLinks(unwrap(r).links))
      .catch(setError);
  }, [callId]);
  useEffect(load, [load]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body: NewLink = { call_id: callId, link_type: 'call', access_type: access, require_approval: approval };
      if (access === 'password') body.password = password;
      const secs = EXPIRY.find(([label]) => label === expiry)?.[1];
      if (secs) body.expires_in_seconds = secs;
      if (maxUses.trim()) body.max_uses = Number(maxUses);
      const link = unwrap(await api.POST('/api/v1/links', { body }));
      setCreated(link);
      setPassword('');
      load();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="panel" aria-labelledby="invite-heading" data-testid="invite-panel">
      <h2 id="invite-heading">Invite with a link</h2>
      <form className="stack" onSubmit={submit} data-testid="invite-form">
        <div className="row wrap">
          <label className="field">
            <span>Who may use it</span>
            <select data-testid="invite-access" value={access} onChange={(e) => setAccess(e.target.value as typeof access)}>
              <option value="public">Anyone with the link</option>
              <option value="password">Anyone with the link and password</option>
            </select>
          </label>
          <label className="field">
            <span>Expires</span>
            <select data-testid="invite-expiry" value={expiry} onChange={(e) => setExpiry(e.target.value)}>
              {EXPIRY.map(([label]) => (
                <option key={label}>{label}</option>
              ))}
            </select>
          </label>
        </div>
        {access === 'password' && (
          <label className="field">
            <span>Password (4 characters or more)</span>
            <input
              type="password"
              data-testid="invite-password"
              autoComplete="new-password"
              minLength={4}
              maxLength={128}
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </label>
        )}
        <div className="row wrap">
          <label className="check">
            <input type="checkbox" data-testid="invite-require-approval" checked={approval} onChange={(e) => setApproval(e.target.checked)} />
            Ask me before letting guests in
          </label>
          <label className="field small">
            <span>Max uses</span>
            <input type="number" min={1} data-testid="invite-max-uses" placeholder="no limit" value={maxUses} onChange={(e) => setMaxUses(e.target.value)} />
          </label>
        </div>
        <ErrorMessage error={error} />
        <button className="button primary" type="submit" disabled={busy} data-testid="invite-create">
          {busy ? 'Creating…' : 'Create invite link'}
        </button>
      </form>
      {created && <CopyUrl url={created.url} testId="invite-url" />}
      {links.length > 0 && (
        <details className="links">
          <summary>Links of this call ({links.length})</summary>
          <ul className="list compact" data-testid="invite-list">
            {links.map((l) => (
              <li key={l.link_id} className="link-row" data-testid="invite-row">
                <CopyUrl url={l.url} testId="invite-row-url" />
                <span className="meta">
                  <span>{l.access_type}</span>
                  {l.require_approval && <span>approval</span>}
                  <span>
                    used {l.current_uses}
                    {l.max_uses ? `/${l.max_uses}` : ''}
                  </span>
                  <span>{l.expires_at ? `until ${new Date(l.expires_at).toLocaleString()}` : 'no expiry'}</span>
                  {!l.is_active && <span>off</span>}
                </span>
              </li>
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}

function CopyUrl({ url, testId }: { url: string; testId: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(url);
      setCopied(true);
      setTimeout(() => setCopied(false), 2000);
    } catch {
      // Clipboard refused (permissions, http): the field is selectable instead.
    }
  };
  return (
    <div className="copy-row">
      <input readOnly value={url} data-testid={testId} aria-label="Invite link" onFocus={(e) => e.currentTarget.select()} />
      <button type="button" className="button small" onClick={() => void copy()} data-testid={`${testId}-copy`} aria-label="Copy invite link">
        {copied ? 'Copied' : 'Copy'}
      </button>
      <span className="sr-only" role="status">
        {copied ? 'Link copied' : ''}
      </span>
    </div>
  );
}
