import { type FormEvent, useState } from 'react';
import type { RequestBodyOf } from '@auralink/client';
import { api, unwrap } from '../api/api.ts';
import { navigate } from '../app/router.tsx';
import { ErrorMessage } from '../ui/ErrorMessage.tsx';

type CreateRoom = RequestBodyOf<'/api/v1/rooms', 'post'>;

/** "@bob.aura, @carol.aura" or one per line: user ids or AuraIDs. */
export function parseInvitees(text: string): string[] {
  return [...new Set(text.split(/[\s,;]+/).map((s) => s.trim()).filter(Boolean))];
}

export function CreateRoomForm({ onCreated }: { onCreated?: () => void }) {
  const [name, setName] = useState('');
  const [callType, setCallType] = useState<NonNullable<CreateRoom['call_type']>>('group');
  const [privacy, setPrivacy] = useState<NonNullable<CreateRoom['privacy']>>('private');
  const [max, setMax] = useState('10');
  const [invitees, setInvitees] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body: CreateRoom = { name: name.trim(), call_type: callType, privacy, invitees: parseInvitees(invitees) };
      if (callType !== 'one_to_one') body.max_participants = Number(max);
      const room = unwrap(await api.POST('/api/v1/rooms', { body }));
      onCreated?.();
      navigate(`/rooms/${room.call_id}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="stack" onSubmit={submit} data-testid="create-room-form">
      <label className="field">
        <span>Name</span>
        <input data-testid="room-name" required maxLength={255} value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <div className="row wrap">
        <label className="field">
          <span>Type</span>
          <select data-testid="room-type" value={callType} onChange={(e) => setCallType(e.target.value as typeof callType)}>
            <option value="group">Group</option>
            <option value="one_to_one">One to one</option>
            <option value="conference">Conference</option>
            <option value="broadcast">Broadcast</option>
          </select>
        </label>
        <label className="field">
          <span>Privacy</span>
          <select data-testid="room-privacy" value={privacy} onChange={(e) => setPrivacy(e.target.value as typeof privacy)}>
            <option value="private">Private (invited people and link holders)</option>
            <option value="public">Public (anyone signed in with the link)</option>
          </select>
        </label>
        <label className="field small">
          <span>Max participants</span>
          <input
            data-testid="room-max-participants"
            type="number"
            min={1}
            max={1000}
            required
            disabled={callType === 'one_to_one'}
            value={callType === 'one_to_one' ? '2' : max}
            onChange={(e) => setMax(e.target.value)}
          />
        </label>
      </div>
      <label className="field">
        <span>Invite (AuraIDs, e.g. @bob.aura, separated by spaces or commas)</span>
        <input data-testid="room-invitees" value={invitees} onChange={(e) => setInvitees(e.target.value)} placeholder="@bob.aura" />
      </label>
      <ErrorMessage error={error} />
      <button className="button primary" type="submit" disabled={busy} data-testid="create-room-submit">
        {busy ? 'Creating…' : 'Create room'}
      </button>
    </form>
  );
}
