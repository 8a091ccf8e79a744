import { useCallback, useEffect, useState } from 'react';
import { api, type Room, type TokenPayload, unwrap } from '../api/api.ts';
import { useClientConfig } from '../app/config.tsx';
import { Link } from '../app/router.tsx';
import { useSession } from '../auth/session.tsx';
import { useLiveEvents } from '../events/EventsProvider.tsx';
import { FilesPanel } from '../panels/FilesPanel.tsx';
import { InvitePanel } from '../panels/InvitePanel.tsx';
import { ParticipantsPanel } from '../panels/ParticipantsPanel.tsx';
import { useJoinRequests } from '../panels/useJoinRequests.ts';
import { JoinRequestNotice, WaitingRoomPanel } from '../panels/WaitingRoomPanel.tsx';
import { ErrorMessage } from '../ui/ErrorMessage.tsx';
import { CallStage } from './CallStage.tsx';
import { type JoinChoices, PreJoin } from './PreJoin.tsx';

type Stage =
  | { kind: 'lobby' }
  | { kind: 'call'; grant: TokenPayload; choices: JoinChoices }
  | { kind: 'left'; choices: JoinChoices };

/** "Active" with nobody left in it reads as a live call; say what the API says instead. */
function statusLabel(room: Room): string {
  if (room.status === 'active' && room.participant_count === 0) return 'No one connected';
  return room.status;
}

export function RoomPage({ roomId }: { roomId: string }) {
  const config = useClientConfig();
  const { me } = useSession();
  const [room, setRoom] = useState<Room | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [joinError, setJoinError] = useState<unknown>(null);
  const [stage, setStage] = useState<Stage>({ kind: 'lobby' });
  const [joining, setJoining] = useState(false);

  const load = useCallback(() => {
    api
      .GET('/api/v1/rooms/{room_id}', { params: { path: { room_id: roomId } } })
      .then((r) => {
        setRoom(unwrap(r));
        setError(null);
      })
      .catch(setError);
  }, [roomId]);
  useEffect(load, [load]);
  // participant events too: the badge follows who is connected (see statusLabel)
  useLiveEvents((e) => {
    if (room && e.call_id === room.call_id && (e.type.startsWith('call.') || e.type.startsWith('participant.'))) load();
  }, [room?.call_id, load]);
  const isHost = !!room && !!me && room.created_by === me.user_id;
  const ended = room?.status === 'ended';
  const requests = useJoinRequests(room?.call_id ?? roomId, isHost && !ended && room !== null);

  const join = async (choices: JoinChoices) => {
    setJoining(true);
    setJoinError(null);
    try {
      const grant = unwrap(await api.POST('/api/v1/rooms/{room_id}/token', { params: { path: { room_id: roomId } }, body: {} }));
      if (!grant.ws_url) throw new Error('Calls need LiveKit: the service has no LIVEKIT_URL.');
      setStage({ kind: 'call', grant, choices });
    } catch (err) {
      setJoinError(err);
    } finally {
      setJoining(false);
    }
  };

  if (error) {
    return (
      <main className="page">
        <p>
          <Link href="/">← Rooms</Link>
        </p>
        <ErrorMessage error={error} onRetry={load} />
      </main>
    );
  }
  if (!room || !me) return <p className="loading">Loading…</p>;

  const side = (
    <>
      {isHost && !ended && <WaitingRoomPanel state={requests} />}
      <FilesPanel callId={room.call_id} canUpload={!ended && room.file_sharing_enabled} />
      {isHost && !ended && <InvitePanel callId={room.call_id} />}
      {/* an invitee holds a seat (and may read the list) once they asked for a token */}
      <ParticipantsPanel callId={room.call_id} visible={isHost || stage.kind !== 'lobby'} />
    </>
  );

  if (stage.kind === 'call') {
    return (
      <main className="page wide" data-testid="room-page" data-call-id={room.call_id}>
        <div className="call-title">
          <h1 data-testid="room-title">{room.name}</h1>
          <span className="muted">{isHost ? 'You are the host' : 'In call'}</span>
        </div>
        {isHost && <JoinRequestNotice state={requests} />}
        <CallStage
          serverUrl={stage.grant.ws_url!}
          token={stage.grant.token}
          callId={room.call_id}
          choices={stage.choices}
          reportQuality
          onLeave={() => {
            // the preview must not turn the camera back on by itself after leaving
            setStage({ kind: 'left', choices: { ...stage.choices, videoEnabled: false } });
            load();
          }}
          side={side}
        />
      </main>
    );
  }

  return (
    <main className="page wide" data-testid="room-page" data-call-id={room.call_id}>
      <div className="row spread wrap">
        <div>
          <p className="crumbs">
            <Link href="/">← Rooms</Link>
            {(isHost || stage.kind !== 'lobby') && (
              <>
                {' · '}
                <Link href={`/calls/${room.call_id}`}>History of this call</Link>
              </>
            )}
          </p>
          <h1 data-testid="room-title">{room.name}</h1>
          <p className="meta">
            <span className={`badge status-${room.status === 'active' && room.participant_count === 0 ? 'idle' : room.status}`} data-testid="room-status" data-status={room.status}>
              {statusLabel(room)}
            </span>
            <span>{room.call_type.replace(/_/g, ' ')}</span>
            <span>{room.privacy}</span>
            <span>up to {room.max_participants}</span>
            {isHost && <span>you are the host</span>}
          </p>
        </div>
      </div>
      <div className="call-layout">
        <div className="stage">
          {ended ? (
            <p className="notice" data-testid="call-ended">
              This call has ended. Its people and files stay in the history.
            </p>
          ) : !config.livekit.configured ? (
            <p className="notice" role="note" data-testid="livekit-missing">
              Calls need LiveKit: the service has no <code>LIVEKIT_URL</code>. Files and history work without it.
            </p>
          ) : (
            <>
              {stage.kind === 'left' && (
                <p className="notice" role="status" data-testid="left-call">
                  You left the call. Join again whenever you like.
                </p>
              )}
              <ErrorMessage error={joinError} />
              <PreJoin
                key={stage.kind}
                title={stage.kind === 'left' ? `Join ${room.name} again?` : `Ready to join ${room.name}?`}
                busy={joining}
                initial={stage.kind === 'left' ? stage.choices : undefined}
                onJoin={(c) => void join(c)}
              />
            </>
          )}
        </div>
        <aside className="side">{side}</aside>
      </div>
    </main>
  );
}
