// The call itself: livekit-client connects with the service's token; components-react
// draws the tiles (names, speaking outline, connection quality) and the controls.
import '@livekit/components-styles';
import {
  ConnectionStateToast,
  DisconnectButton,
  GridLayout,
  LiveKitRoom,
  ParticipantTile,
  RoomAudioRenderer,
  StartAudio,
  TrackToggle,
  useLocalParticipant,
  useMaybeTrackRefContext,
  useTracks,
} from '@livekit/components-react';
import { type DisconnectReason, Track } from 'livekit-client';
import { type ReactNode, useState } from 'react';
import type { JoinChoices } from './PreJoin.tsx';
import { useQualityReporter } from './useQualityReporter.ts';

export interface CallStageProps {
  serverUrl: string;
  token: string;
  callId: string;
  choices: JoinChoices;
  /** Report WebRTC statistics: signed-in participants by their session, guests with qualityToken. */
  reportQuality: boolean;
  /** A guest's credential for its quality reports (quality_token of the join payload); users leave it out. */
  qualityToken?: string;
  onLeave(reason?: DisconnectReason): void;
  /** Files, invites, waiting room: beside the video on wide screens, below it on narrow. */
  side?: ReactNode;
}

export function CallStage(props: CallStageProps) {
  const [error, setError] = useState<string | null>(null);
  return (
    <LiveKitRoom
      serverUrl={props.serverUrl}
      token={props.token}
      connect
      audio={props.choices.audioEnabled ? { deviceId: props.choices.audioDeviceId } : false}
      video={props.choices.videoEnabled ? { deviceId: props.choices.videoDeviceId } : false}
      options={{ adaptiveStream: true, dynacast: true }}
      onDisconnected={props.onLeave}
      onError={(e) => setError(e.message)}
      onMediaDeviceFailure={(_f, kind) => setError(`Could not use your ${kind === 'audioinput' ? 'microphone' : 'camera'}.`)}
      data-lk-theme="default"
      className="call"
      data-testid="call"
    >
      {/* no side panels (guests): the video takes the whole width */}
      <div className={props.side ? 'call-layout' : 'call-layout solo'}>
        <div className="stage">
          {error && (
            <div className="error" role="alert" data-testid="error-message">
              {error}
            </div>
          )}
          <Tiles />
          <Controls />
        </div>
        {props.side && <aside className="side">{props.side}</aside>}
      </div>
      <RoomAudioRenderer />
      <StartAudio label="Click to allow sound" />
      <ConnectionStateToast />
      <QualityReporter callId={props.callId} enabled={props.reportQuality} qualityToken={props.qualityToken} />
    </LiveKitRoom>
  );
}

function QualityReporter({ callId, enabled, qualityToken }: { callId: string; enabled: boolean; qualityToken?: string }) {
  useQualityReporter(callId, enabled, qualityToken);
  return null;
}

function Tiles() {
  const tracks = useTracks(
    [
      { source: Track.Source.Camera, withPlaceholder: true },
      { source: Track.Source.ScreenShare, withPlaceholder: false },
    ],
    { onlySubscribed: false },
  );
  return (
    <GridLayout tracks={tracks} className="grid" data-testid="video-grid">
      <NamedTile />
    </GridLayout>
  );
}

/** A tile that names its participant in attributes, for people (aria) and tests alike. */
function NamedTile() {
  const ref = useMaybeTrackRefContext();
  const p = ref?.participant;
  const name = p?.name || p?.identity || 'Participant';
  const screen = ref?.source === Track.Source.ScreenShare;
  return (
    <ParticipantTile
      data-testid="video-tile"
      data-participant-name={name}
      data-participant-identity={p?.identity}
      data-local={p?.isLocal ? 'true' : 'false'}
      data-source={ref?.source}
      aria-label={screen ? `${name}'s screen` : `${name}${p?.isLocal ? ' (you)' : ''}`}
      role="group"
    />
  );
}

function Controls() {
  const { isMicrophoneEnabled, isCameraEnabled, isScreenShareEnabled } = useLocalParticipant();
  const screenSupported = typeof navigator !== 'undefined' && !!navigator.mediaDevices?.getDisplayMedia;
  return (
    <div className="controls" role="toolbar" aria-label="Call controls" data-testid="call-controls">
      <TrackToggle
        source={Track.Source.Microphone}
        data-testid="toggle-microphone"
        aria-label={isMicrophoneEnabled ? 'Mute microphone' : 'Unmute microphone'}
      >
        {isMicrophoneEnabled ? 'Mute' : 'Unmute'}
      </TrackToggle>
      <TrackToggle
        source={Track.Source.Camera}
        data-testid="toggle-camera"
        aria-label={isCameraEnabled ? 'Turn camera off' : 'Turn camera on'}
      >
        {isCameraEnabled ? 'Camera off' : 'Camera on'}
      </TrackToggle>
      {screenSupported && (
        <TrackToggle
          source={Track.Source.ScreenShare}
          data-testid="toggle-screen-share"
          aria-label={isScreenShareEnabled ? 'Stop sharing your screen' : 'Share your screen'}
        >
          {isScreenShareEnabled ? 'Stop sharing' : 'Share screen'}
        </TrackToggle>
      )}
      <DisconnectButton data-testid="leave-button" aria-label="Leave the call">
        Leave
      </DisconnectButton>
    </div>
  );
}
