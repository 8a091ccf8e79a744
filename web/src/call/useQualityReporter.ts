// Reads the browser's WebRTC statistics through livekit-client's tracks every few
// seconds and posts them in batches to POST /calls/{call_id}/quality (about every 10 s).
import { useRoomContext } from '@livekit/components-react';
import type { Room } from 'livekit-client';
import { useEffect } from 'react';
import { api, ApiError, unwrap } from '../api/api.ts';
import { type Counters, type QualitySample, type RtcStat, type TaggedReport, toSample } from './quality.ts';

const SAMPLE_MS = 2500;
const POST_MS = 10_000;

async function collect(room: Room): Promise<TaggedReport[]> {
  const out: TaggedReport[] = [];
  const add = async (pc: 'pub' | 'sub', track: { getRTCStatsReport(): Promise<RTCStatsReport | undefined> } | undefined) => {
    const report = await track?.getRTCStatsReport().catch(() => undefined);
    if (report) out.push({ pc, stats: [...report.values()] as RtcStat[] });
  };
  for (const pub of room.localParticipant.trackPublications.values()) await add('pub', pub.track);
  for (const p of room.remoteParticipants.values()) {
    for (const pub of p.trackPublications.values()) await add('sub', pub.track);
  }
  return out;
}

/**
 * A signed-in participant reports with its session's Bearer token; a guest passes the
 * quality_token of its join payload, sent as x-quality-token (this seat of this call only).
 */
export function useQualityReporter(callId: string, enabled: boolean, qualityToken?: string): void {
  const room = useRoomContext();
  useEffect(() => {
    if (!enabled) return;
    let counters: Counters = {};
    let pending: QualitySample[] = [];
    let stopped = false;
    let sampling = false;
    const sample = async () => {
      // One at a time: on a busy machine collecting can outlast the interval.
      if (room.state !== 'connected' || sampling) return;
      sampling = true;
      try {
        const reports = await collect(room);
        const r = toSample(reports, counters, Date.now());
        counters = r.counters;
        if (r.sample) pending.push(r.sample);
      } finally {
        sampling = false;
      }
    };
    const flush = async () => {
      if (pending.length === 0 || stopped) return;
      const samples = pending.splice(0, 100);
      try {
        const header = qualityToken ? { 'x-quality-token': qualityToken } : undefined;
        unwrap(await api.POST('/api/v1/calls/{call_id}/quality', { params: { path: { call_id: callId }, header }, body: { samples } }));
      } catch (err) {
        // Refused for good (not a participant, call gone): stop. Otherwise (rate limit,
        // network, 5xx) keep the samples for the next round, within the batch limit.
        if (err instanceof ApiError && err.status >= 400 && err.status < 500 && err.status !== 429) {
          console.warn('quality report refused; reporting stops', err);
          stopped = true;
        } else pending = [...samples, ...pending].slice(-100);
      }
    };
    const sampler = setInterval(() => void sample(), SAMPLE_MS);
    const poster = setInterval(() => void flush(), POST_MS);
    return () => {
      clearInterval(sampler);
      clearInterval(poster);
      void flush();
    };
  }, [room, callId, enabled, qualityToken]);
}
