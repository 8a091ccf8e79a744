import { type FormEvent, useState } from 'react';
import { api, unwrap } from '../api/api.ts';
import { useClientConfig } from '../app/config.tsx';
import { ErrorMessage } from '../ui/ErrorMessage.tsx';
import { supabase } from './supabase.ts';
import { jwtExpiry, setSession } from './token.ts';

export function SignInPage() {
  const config = useClientConfig();
  return (
    <main className="page narrow" data-testid="sign-in-page">
      <h1>Sign in to AuraLink</h1>
      {config.auth.mode === 'development' && <DevSignIn />}
      {config.auth.mode === 'supabase' && <SupabaseSignIn url={config.auth.supabase_url!} anonKey={config.auth.supabase_anon_key!} />}
      {config.auth.mode === 'external' && <TokenSignIn />}
    </main>
  );
}

function DevSignIn() {
  const [name, setName] = useState('');
  const [operator, setOperator] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = unwrap(await api.POST('/api/v1/dev/sign-in', { body: { name: name.trim(), ...(operator ? { operator: true } : {}) } }));
      setSession({ access_token: r.access_token, expires_at: r.expires_at, source: 'development' });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card stack" onSubmit={submit} data-testid="dev-sign-in-form">
      <p className="muted">
        Development mode: pick a name. The same name is the same user, with the AuraID <code>@name.aura</code>.
      </p>
      <label className="field">
        <span>Your name</span>
        <input
          name="name"
          data-testid="sign-in-name"
          autoComplete="username"
          required
          pattern="[A-Za-z0-9_\-]{1,32}"
          title="Letters, digits, _ and -, up to 32"
          value={name}
          onChange={(e) => setName(e.target.value)}
          autoFocus
        />
      </label>
      <label className="check">
        <input type="checkbox" checked={operator} onChange={(e) => setOperator(e.target.checked)} data-testid="sign-in-operator" />
        As an operator (sees every call and the deployment's usage)
      </label>
      <ErrorMessage error={error} />
      <button className="button primary" type="submit" disabled={busy} data-testid="sign-in-submit">
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
}

function SupabaseSignIn({ url, anonKey }: { url: string; anonKey: string }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [sent, setSent] = useState(false);
  const run = async (withPassword: boolean) => {
    setBusy(true);
    setError(null);
    try {
      const c = await supabase(url, anonKey);
      const { error: e } = withPassword
        ? await c.auth.signInWithPassword({ email, password })
        : await c.auth.signInWithOtp({ email, options: { emailRedirectTo: `${location.origin}/` } });
      if (e) throw new Error(e.message);
      if (!withPassword) setSent(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      className="card stack"
      onSubmit={(e) => {
        e.preventDefault();
        void run(password !== '');
      }}
    >
      <label className="field">
        <span>Email</span>
        <input type="email" data-testid="sign-in-email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
      </label>
      <label className="field">
        <span>Password (leave empty for a magic link)</span>
        <input type="password" data-testid="sign-in-password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />
      </label>
      <ErrorMessage error={error} />
      {sent && <p role="status">Check your email for a sign-in link.</p>}
      <button className="button primary" type="submit" disabled={busy} data-testid="sign-in-submit">
        {password ? 'Sign in' : 'Email me a sign-in link'}
      </button>
    </form>
  );
}

function TokenSignIn() {
  const [token, setToken] = useState('');
  return (
    <form
      className="card stack"
      onSubmit={(e) => {
        e.preventDefault();
        setSession({ access_token: token.trim(), expires_at: jwtExpiry(token.trim()), source: 'external' });
      }}
    >
      <p className="muted">This service accepts access tokens from your identity provider. Paste one to continue.</p>
      <label className="field">
        <span>Access token</span>
        <textarea data-testid="sign-in-token" required rows={4} value={token} onChange={(e) => setToken(e.target.value)} />
      </label>
      <button className="button primary" type="submit" data-testid="sign-in-submit">
        Continue
      </button>
    </form>
  );
}
