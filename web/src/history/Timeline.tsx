// What each person did during the call, from the recorded timeline: their sessions
// (a reconnect is a new LiveKit session of the same identity) as bars across the call,
// and every event in words underneath.
import type { SessionTimeline } from '../api/api.ts';
import { clock } from './format.ts';

type Event = SessionTimeline['events'][number];

interface Person {
  identity: string;
  name: string;
  sessions: SessionTimeline[];
}

const SOURCE: Record<string, string> = {
  microphone: 'Microphone',
  camera: 'Camera',
  screen_share: 'Screen share',
  screen_share_audio: 'Screen audio',
};

export function describeEvent(e: Event, sessionIndex: number): string {
  switch (e.type) {
    case 'joined':
      return sessionIndex === 0 ? 'Joined' : 'Reconnected';
    case 'published':
      return `${SOURCE[e.source ?? ''] ?? 'Track'} on`;
    case 'unpublished':
      return `${SOURCE[e.source ?? ''] ?? 'Track'} off`;
    case 'left':
      return e.reason && e.reason !== 'CLIENT_INITIATED' ? `Left (${reason(e.reason)})` : 'Left';
    case 'disconnected':
      return `Disconnected${e.reason ? ` (${reason(e.reason)})` : ''}`;
    default:
      return e.type;
  }
}

const reason = (r: string) => r.toLowerCase().replace(/_/g, ' ');

export function groupByPerson(sessions: SessionTimeline[]): Person[] {
  const people = new Map<string, Person>();
  for (const s of sessions) {
    const p = people.get(s.identity) ?? { identity: s.identity, name: s.display_name ?? s.identity, sessions: [] };
    p.sessions.push(s);
    people.set(s.identity, p);
  }
  return [...people.values()];
}

export function Timeline({ sessions, endedAt }: { sessions: SessionTimeline[]; endedAt: string | null }) {
  const people = groupByPerson(sessions);
  if (people.length === 0) return <p className="muted">Nobody joined this call.</p>;
  const times = sessions.flatMap((s) => s.events.map((e) => Date.parse(e.at)));
  const start = Math.min(...times);
  const open = sessions.some((s) => s.events.at(-1)?.type !== 'left' && s.events.at(-1)?.type !== 'disconnected');
  const end = Math.max(...times, open ? (endedAt ? Date.parse(endedAt) : Date.now()) : 0);
  const span = Math.max(1, end - start);
  const pct = (iso: string) => `${(((Date.parse(iso) - start) / span) * 100).toFixed(2)}%`;

  return (
    <div className="timeline" data-testid="timeline">
      <div className="timeline-axis muted" aria-hidden="true">
        <span>{clock(new Date(start).toISOString())}</span>
        <span>{clock(new Date(end).toISOString())}</span>
      </div>
      {people.map((p) => (
        <section key={p.identity} className="timeline-person" data-testid="timeline-person" data-identity={p.identity} data-name={p.name} data-sessions={p.sessions.length}>
          <h3>
            {p.name}
            {p.sessions.length > 1 && <span className="muted"> · {p.sessions.length} sessions</span>}
          </h3>
          <div className="lane" aria-hidden="true">
            {p.sessions.map((s) => {
              const first = s.events[0]!;
              const last = s.events.at(-1)!;
              const ended = last.type === 'left' || last.type === 'disconnected';
              const right = ended ? pct(last.at) : '100%';
              return (
                <div key={s.participant_id}>
                  <span className="lane-bar" style={{ left: pct(first.at), width: `calc(${right} - ${pct(first.at)})` }} />
                  {s.events
                    .filter((e) => e.type === 'published' || e.type === 'unpublished')
                    .map((e, i) => (
                      <span key={i} className={`lane-mark ${e.type} src-${e.source}`} style={{ left: pct(e.at) }} title={`${clock(e.at)} ${describeEvent(e, 1)}`} />
                    ))}
                </div>
              );
            })}
          </div>
          <ol className="events">
            {p.sessions.flatMap((s, si) =>
              s.events.map((e, i) => (
                <li key={`${s.participant_id}-${i}`} data-testid="timeline-event" data-type={e.type} data-source={e.source}>
                  <time dateTime={e.at}>{clock(e.at)}</time> {describeEvent(e, si)}
                </li>
              )),
            )}
          </ol>
        </section>
      ))}
    </div>
  );
}
