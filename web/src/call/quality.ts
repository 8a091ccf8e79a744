// Turns the browser's WebRTC statistics (RTCStatsReport entries of the publisher's
// and subscriber's peer connections, as livekit-client's tracks hand them out) into
// the quality samples the service stores: POST /calls/{call_id}/quality.
// Pure: the caller collects reports and keeps the counters between two calls.

export interface RtcStat {
  id: string;
  type: string;
  timestamp?: number;
  [field: string]: unknown;
}

/** One peer connection's statistics: what we send (pub) or receive (sub). */
export interface TaggedReport {
  pc: 'pub' | 'sub';
  stats: RtcStat[];
}

/** Byte and packet counters of the previous snapshot, by `${pc}:${stat id}`. */
export type Counters = Record<string, { bytes: number; at: number; lost?: number; received?: number }>;

export interface QualitySample {
  recorded_at: string;
  packet_loss_percent?: number;
  jitter_ms?: number;
  latency_ms?: number;
  bandwidth_kbps?: number;
  video_resolution?: string;
  video_fps?: number;
  audio_bitrate_kbps?: number;
  video_bitrate_kbps?: number;
  connection_type?: 'udp' | 'tcp' | 'relay';
  ice_state?: string;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

interface Keyed {
  key: string;
  pc: 'pub' | 'sub';
  s: RtcStat;
}

function selectedPair(all: Keyed[], pc: 'pub' | 'sub'): Keyed | undefined {
  const mine = all.filter((k) => k.pc === pc);
  const transport = mine.find((k) => k.s.type === 'transport' && typeof k.s.selectedCandidatePairId === 'string');
  const byTransport = transport && mine.find((k) => k.s.type === 'candidate-pair' && k.s.id === transport.s.selectedCandidatePairId);
  return (
    byTransport ??
    mine.find((k) => k.s.type === 'candidate-pair' && k.s.nominated === true && k.s.state === 'succeeded') ??
    mine.find((k) => k.s.type === 'candidate-pair' && k.s.state === 'succeeded')
  );
}

/**
 * One sample from a snapshot. Bitrates and loss need the previous snapshot's counters
 * (they are rates over the interval), so the first snapshot gives none of those.
 * Bitrates are what this client sends of each kind; a kind it does not send (muted
 * camera, listener) is measured on what it receives instead.
 */
export function toSample(
  reports: TaggedReport[],
  prev: Counters,
  nowMs: number,
): { sample: QualitySample | null; counters: Counters } {
  const seen = new Map<string, Keyed>();
  for (const r of reports) for (const s of r.stats) seen.set(`${r.pc}:${s.id}`, { key: `${r.pc}:${s.id}`, pc: r.pc, s });
  const all = [...seen.values()];
  const of = (type: string) => all.filter((k) => k.s.type === type);
  const counters: Counters = {};
  const sample: QualitySample = { recorded_at: new Date(nowMs).toISOString() };

  const rate = (k: Keyed, bytesField: string): number | undefined => {
    const bytes = num(k.s[bytesField]);
    if (bytes === undefined) return undefined;
    // The stat's own clock: the report may have been taken a while before this runs.
    const at = num(k.s.timestamp) ?? nowMs;
    const entry: Counters[string] = { bytes, at };
    const lost = num(k.s.packetsLost);
    const received = num(k.s.packetsReceived);
    if (lost !== undefined) entry.lost = lost;
    if (received !== undefined) entry.received = received;
    counters[k.key] = entry;
    const before = prev[k.key];
    if (!before || at <= before.at || bytes < before.bytes) return undefined;
    return ((bytes - before.bytes) * 8) / (at - before.at); // bits per ms = kbit/s
  };

  const outbound = of('outbound-rtp').map((k) => ({ k, kbps: rate(k, 'bytesSent') }));
  const inbound = of('inbound-rtp').map((k) => ({ k, kbps: rate(k, 'bytesReceived') }));
  const kindRate = (kind: string): number | undefined => {
    const sent = outbound.filter((o) => o.k.s.kind === kind && o.kbps !== undefined).map((o) => o.kbps!);
    if (sent.length > 0 && sum(sent) > 0) return sum(sent);
    const got = inbound.filter((o) => o.k.s.kind === kind && o.kbps !== undefined).map((o) => o.kbps!);
    if (got.length > 0) return sum(got);
    return sent.length > 0 ? 0 : undefined;
  };
  const audio = kindRate('audio');
  const video = kindRate('video');
  if (audio !== undefined) sample.audio_bitrate_kbps = round(audio);
  if (video !== undefined) sample.video_bitrate_kbps = round(video);

  const pair = selectedPair(all, 'pub') ?? selectedPair(all, 'sub');
  const rtt = num(pair?.s.currentRoundTripTime);
  const remoteRtts = of('remote-inbound-rtp').map((k) => num(k.s.roundTripTime)).filter((v) => v !== undefined);
  if (rtt !== undefined) sample.latency_ms = round(rtt * 1000);
  else if (remoteRtts.length > 0) sample.latency_ms = round(Math.max(...remoteRtts) * 1000);

  const jitters = [...of('inbound-rtp'), ...of('remote-inbound-rtp')].map((k) => num(k.s.jitter)).filter((v) => v !== undefined);
  if (jitters.length > 0) sample.jitter_ms = round(Math.max(...jitters) * 1000);

  // Loss of what we receive (over the interval) and of what we send (the far end's report).
  const losses: number[] = [];
  let lostDelta = 0;
  let receivedDelta = 0;
  for (const { k } of inbound) {
    const now = counters[k.key];
    const before = prev[k.key];
    if (now?.lost === undefined || now.received === undefined || before?.lost === undefined || before.received === undefined) continue;
    lostDelta += Math.max(0, now.lost - before.lost);
    receivedDelta += Math.max(0, now.received - before.received);
  }
  if (lostDelta + receivedDelta > 0) losses.push((lostDelta / (lostDelta + receivedDelta)) * 100);
  for (const k of of('remote-inbound-rtp')) {
    const f = num(k.s.fractionLost);
    if (f !== undefined) losses.push(f * 100);
  }
  if (losses.length > 0) sample.packet_loss_percent = round(Math.min(100, Math.max(0, ...losses)));

  const available = num(pair?.s.availableOutgoingBitrate);
  const allRates = [...outbound, ...inbound].map((o) => o.kbps).filter((v) => v !== undefined);
  if (available !== undefined) sample.bandwidth_kbps = round(available / 1000);
  else if (allRates.length > 0) sample.bandwidth_kbps = round(sum(allRates));

  const frames = (list: Keyed[]) =>
    list
      .filter((k) => k.s.kind === 'video' && num(k.s.frameWidth) && num(k.s.frameHeight))
      .sort((a, b) => num(b.s.frameWidth)! * num(b.s.frameHeight)! - num(a.s.frameWidth)! * num(a.s.frameHeight)!)[0];
  const biggest = frames(outbound.map((o) => o.k)) ?? frames(inbound.map((o) => o.k));
  if (biggest) {
    sample.video_resolution = `${biggest.s.frameWidth}x${biggest.s.frameHeight}`;
    const fps = num(biggest.s.framesPerSecond);
    if (fps !== undefined) sample.video_fps = round(fps, 1);
  }

  const local = pair && all.find((k) => k.pc === pair.pc && k.s.type === 'local-candidate' && k.s.id === pair.s.localCandidateId);
  if (local) {
    sample.connection_type = local.s.candidateType === 'relay' ? 'relay' : local.s.protocol === 'tcp' ? 'tcp' : 'udp';
  }
  const transport = pair && all.find((k) => k.pc === pair.pc && k.s.type === 'transport');
  const ice = transport?.s.iceState ?? pair?.s.state;
  if (typeof ice === 'string' && ice.length <= 32) sample.ice_state = ice;

  const measured = Object.keys(sample).length > 1;
  return { sample: measured ? sample : null, counters };
}
