// Before joining: pick camera and microphone, see yourself, choose what starts on.
// The preview track is livekit-client's (usePreviewDevice), released when joining.
import { useMediaDevices, usePreviewDevice } from '@livekit/components-react';
import type { LocalVideoTrack } from 'livekit-client';
import { useEffect, useRef, useState } from 'react';

export interface JoinChoices {
  audioEnabled: boolean;
  videoEnabled: boolean;
  audioDeviceId: string;
  videoDeviceId: string;
}

export interface PreJoinProps {
  title: string;
  busy?: boolean;
  joinLabel?: string;
  busyLabel?: string;
  /** Called with the choices when the join button is pressed (without submitForm). */
  onJoin?(c: JoinChoices): void;
  /** Makes the join button submit this form instead; read the choices from onChoicesChange. */
  submitForm?: string;
  onChoicesChange?(c: JoinChoices): void;
  /** Where the choices start, e.g. the last call's devices with the camera off after leaving. */
  initial?: Partial<JoinChoices>;
}

export function PreJoin({ onJoin, busy, title, joinLabel = 'Join call', busyLabel = 'Joining…', submitForm, onChoicesChange, initial }: PreJoinProps) {
  const [videoEnabled, setVideoEnabled] = useState(initial?.videoEnabled ?? true);
  const [audioEnabled, setAudioEnabled] = useState(initial?.audioEnabled ?? true);
  const [videoDeviceId, setVideoDeviceId] = useState(initial?.videoDeviceId ?? 'default');
  const [audioDeviceId, setAudioDeviceId] = useState(initial?.audioDeviceId ?? 'default');
  const cameras = useMediaDevices({ kind: 'videoinput' });
  const mics = useMediaDevices({ kind: 'audioinput' });
  const preview = usePreviewDevice<LocalVideoTrack>(videoEnabled, videoDeviceId, 'videoinput');
  const videoEl = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    onChoicesChange?.({ audioEnabled, videoEnabled, audioDeviceId, videoDeviceId });
  }, [audioEnabled, videoEnabled, audioDeviceId, videoDeviceId, onChoicesChange]);

  useEffect(() => {
    const el = videoEl.current;
    const track = preview.localTrack;
    if (!el || !track) return;
    track.attach(el);
    return () => {
      track.detach(el);
    };
  }, [preview.localTrack]);

  return (
    <section className="prejoin card" aria-labelledby="prejoin-heading" data-testid="prejoin">
      <h2 id="prejoin-heading">{title}</h2>
      <div className="preview">
        {videoEnabled && preview.localTrack ? (
          <video ref={videoEl} muted playsInline autoPlay data-testid="prejoin-preview" aria-label="Your camera preview" />
        ) : (
          <div className="preview-off" data-testid="prejoin-preview-off">
            {preview.deviceError ? `Camera unavailable: ${preview.deviceError.message}` : 'Camera off'}
          </div>
        )}
      </div>
      <div className="row wrap">
        <label className="field">
          <span>Camera</span>
          <select data-testid="prejoin-camera" value={videoDeviceId} onChange={(e) => setVideoDeviceId(e.target.value)}>
            {cameras.length === 0 && <option value="default">Default camera</option>}
            {cameras.map((d, i) => (
              <option key={d.deviceId || i} value={d.deviceId}>
                {d.label || `Camera ${i + 1}`}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Microphone</span>
          <select data-testid="prejoin-microphone" value={audioDeviceId} onChange={(e) => setAudioDeviceId(e.target.value)}>
            {mics.length === 0 && <option value="default">Default microphone</option>}
            {mics.map((d, i) => (
              <option key={d.deviceId || i} value={d.deviceId}>
                {d.label || `Microphone ${i + 1}`}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div className="row wrap">
        <label className="check">
          <input type="checkbox" data-testid="prejoin-camera-on" checked={videoEnabled} onChange={(e) => setVideoEnabled(e.target.checked)} />
          Camera on
        </label>
        <label className="check">
          <input type="checkbox" data-testid="prejoin-microphone-on" checked={audioEnabled} onChange={(e) => setAudioEnabled(e.target.checked)} />
          Microphone on
        </label>
      </div>
      <button
        type={submitForm ? 'submit' : 'button'}
        form={submitForm}
        className="button primary"
        data-testid="join-button"
        disabled={busy}
        onClick={submitForm ? undefined : () => onJoin?.({ audioEnabled, videoEnabled, audioDeviceId, videoDeviceId })}
      >
        {busy ? busyLabel : joinLabel}
      </button>
    </section>
  );
}
