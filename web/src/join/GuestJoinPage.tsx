// The page an invite link opens: preview, name and password, the waiting room with
// live status, then the call. Works without an account; a signed-in visitor joins
// as themselves (the typed client sends their token).
import type { ResponseOf } from '@auralink/client';
import { type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import { api, type TokenPayload, unwrap } from '../api/api.ts';
import { useClientConfig } from '../app/config.tsx';
import { useSession } from '../auth/session.tsx';
import { CallStage } from '../call/CallStage.tsx';
import { type JoinChoices, PreJoin } from '../call/PreJoin.tsx';
import { ErrorMessage } from '../ui/ErrorMessage.tsx';
import { classifyJoinError, type JoinFailure } from './guest.ts';

type Preview = ResponseOf<'/api/v1/join/{short_code}', 'get'>;
type Waiting = { requestId: string; secret: string; expiresAt: string };
type Phase =
  | { kind: 'form' }
  | { kind: 'waiting'; wait: Waiting; status: 'pending' }
  | { kind: 'denied' }
  | { kind: 'expired' }
  | { kind: 'call'; grant: TokenPayload }
  | { kind: 'left' };

const POLL_MS = 2000;

export function GuestJoinPage({ code }: { code: string }) {
  const config = useClientConfig();
  const { me } = useSession();
  const [preview, setPreview] = useState<Preview | null>(null);
  const [loadError, setLoadError] = useState<JoinFailure | null>(null);
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [failure, setFailure] = useState<JoinFailure | null>(null);
  const [busy, setBusy] = useState(false);
  const [phase, setPhase] = useState<Phase>({ kind: 'form' });
  const choices = useRef<JoinChoices>({ audioEnabled: true, videoEnabled: true, audioDeviceId: 'default', videoDeviceId: 'default' });
  const onChoices = useCallback((c: JoinChoices) => {
    choices.current = c;
  }, []);

  const load = useCallback(() => {
    setLoadError(null);
    api
      .GET('/api/v1/join/{short_code}', { params: { path: { short_code: code } } })
      .then((r) => setPreview(unwrap(r)))
      .catch((err) => setLoadError(classifyJoinError(err)));
  }, [code]);
  useEffect(load, [load]);
  useEffect(() => {
    if (me?.display_name && !name) setName(me.display_name);
  }, [me, name]);

  const granted = (grant: TokenPayload) => {
    if (!grant.ws_url) {
      setFailure({ kind: 'other', error: new Error('Calls need LiveKit: the service has no LIVEKIT_URL.') });
      setPhase({ kind: 'form' });
      return;
    }
    setPhase({ kind: 'call', grant });
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setFailure(null);
    try {
      const body: { display_name: string; password?: string } = { display_name: name.trim() };
      if (preview?.requires_password) body.password = password;
      const r = await api.POST('/api/v1/join/{short_code}', { params: { path: { short_code: code } }, body });
      const data = unwrap(r);
      if (r.response.status === 202 && 'request_id' in data) {
        setPhase({ kind: 'waiting', status: 'pending', wait: { requestId: data.request_id, secret: data.request_secret, expiresAt: data.expires_at } });
      } else granted(data as TokenPayload);
    } catch (err) {
      setFailure(classifyJoinError(err));
    } finally {
      setBusy(false);
    }
  };

  // The waiting room: ask every 2 s until the host decides or the request expires.
  const waiting = phase.kind === 'waiting' ? phase.wait : null;
  useEffect(() => {
    if (!waiting) return;
    let live = true;
    const tick = async () => {
      try {
        const r = unwrap(
          await api.GET('/api/v1/join/{short_code}/requests/{request_id}', {
            params: { path: { short_code: code, request_id: waiting.requestId } },
            headers: { 'x-request-secret': waiting.secret },
          }),
        );
        if (!live) return;
        if (r.status === 'denied') setPhase({ kind: 'denied' });
        else if (r.status === 'approved' && r.token) granted(r as TokenPayload);
        else if (r.status === 'approved') setFailure({ kind: 'other', error: new Error('You were let in, but the call token was already handed out. Ask the host for a new link.') });
      } catch (err) {
        if (!live) return;
        const f = classifyJoinError(err);
        if (f.kind === 'gone') setPhase({ kind: 'expired' });
        else setFailure(f); // transient: keep polling
      }
    };
    const t = setInterval(() => void tick(), POLL_MS);
    void tick();
    return () => {
      live = false;
      clearInterval(t);
    };
  }, [waiting, code]);

  if (phase.kind === 'call') {
    return (
      <main className="page wide" data-testid="guest-call">
        <h1 className="sr-only">{preview?.title ?? preview?.name ?? 'Call'}</h1>
        <CallStage
          serverUrl={phase.grant.ws_url!}
          token={phase.grant.token}
          callId={phase.grant.call_id}
          choices={choices.current}
          // A guest has no session: its join payload's quality_token stands in for one.
          reportQuality={me !== null || Boolean(phase.grant.quality_token)}
          qualityToken={me === null ? phase.grant.quality_token : undefined}
          onLeave={() => setPhase({ kind: 'left' })}
        />
      </main>
    );
  }

  const title = preview?.title || preview?.name;
  return (
    <main className="page narrow" data-testid="guest-join-page">
      {loadError ? (
        <>
          <h1>Join a call</h1>
          {loadError.kind === 'other' ? (
            <ErrorMessage error={loadError.error} onRetry={load} />
          ) : (
            <ErrorMessage error={loadError.message} />
          )}
        </>
      ) : !preview ? (
        <p className="loading">Loading…</p>
      ) : (
        <>
          <header className="join-header" data-testid="join-preview">
            <p className="muted">You are invited to</p>
            <h1 data-testid="join-title">{title}</h1>
            {preview.title && preview.title !== preview.name && <p data-testid="join-room-name">Room: {preview.name}</p>}
            {preview.description && <p>{preview.description}</p>}
            <p className="meta">
              <span>{preview.call_type.replace(/_/g, ' ')}</span>
              {preview.require_approval && <span>the host lets people in</span>}
              {preview.expires_at && <span>link valid until {new Date(preview.expires_at).toLocaleString()}</span>}
            </p>
          </header>
          {!config.livekit.configured && (
            <p className="notice" role="note">
              Calls need LiveKit, and this service has no <code>LIVEKIT_URL</code> yet.
            </p>
          )}
          {phase.kind === 'waiting' && (
            <div className="card waiting" role="status" aria-live="polite" data-testid="waiting-status" data-status="pending">
              <span className="spinner" aria-hidden="true" />
              <div>
                <strong>Waiting for the host to let you in…</strong>
                <p className="muted">Keep this page open; you join as soon as you are admitted.</p>
              </div>
            </div>
          )}
          {phase.kind === 'denied' && (
            <div className="error" role="alert" data-testid="waiting-status" data-status="denied">
              The host declined your request to join.
            </div>
          )}
          {phase.kind === 'expired' && (
            <div className="error" role="alert" data-testid="waiting-status" data-status="expired">
              Your request to join expired before the host answered. You can ask again.
            </div>
          )}
          {phase.kind === 'left' && (
            <p className="notice" role="status" data-testid="left-call">
              You left the call.
            </p>
          )}
          {failure && (failure.kind === 'other' ? <ErrorMessage error={failure.error} /> : <ErrorMessage error={failure.message} />)}
          {(phase.kind === 'form' || phase.kind === 'expired') && (
            <form id="guest-join-form" className="card stack" onSubmit={(e) => void submit(e)} data-testid="guest-join-form">
              <label className="field">
                <span>Your name</span>
                <input
                  data-testid="guest-display-name"
                  autoComplete="name"
                  required
                  maxLength={255}
                  value={name}
                  onChange={(e) => setName(e.target.value)}
                />
              </label>
              {preview.requires_password && (
                <label className="field">
                  <span>Password</span>
                  <input
                    type="password"
                    data-testid="guest-password"
                    autoComplete="current-password"
                    required
                    maxLength={128}
                    value={password}
                    onChange={(e) => setPassword(e.target.value)}
                  />
                </label>
              )}
            </form>
          )}
          {(phase.kind === 'form' || phase.kind === 'expired' || phase.kind === 'waiting') && config.livekit.configured && (
            <PreJoin
              title="Your camera and microphone"
              busy={busy || phase.kind === 'waiting'}
              joinLabel={preview.require_approval ? 'Ask to join' : 'Join call'}
              busyLabel={phase.kind === 'waiting' ? 'Waiting for the host…' : 'Joining…'}
              submitForm={phase.kind === 'waiting' ? undefined : 'guest-join-form'}
              onChoicesChange={onChoices}
            />
          )}
        </>
      )}
    </main>
  );
}
