import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toSample, type RtcStat, type TaggedReport } from './quality.ts';

// Shaped like Chromium's getStats() entries (only the fields the mapping reads, plus noise).
function publisher(bytesVideo: number, bytesAudio: number): RtcStat[] {
  return [
    { id: 'T01', type: 'transport', selectedCandidatePairId: 'CP1', iceState: 'connected', dtlsState: 'connected' },
    { id: 'CP1', type: 'candidate-pair', state: 'succeeded', nominated: true, localCandidateId: 'L1', currentRoundTripTime: 0.042, availableOutgoingBitrate: 2_500_000 },
    { id: 'CP2', type: 'candidate-pair', state: 'failed', localCandidateId: 'L2', currentRoundTripTime: 9 },
    { id: 'L1', type: 'local-candidate', candidateType: 'host', protocol: 'udp' },
    { id: 'L2', type: 'local-candidate', candidateType: 'relay', protocol: 'udp' },
    { id: 'OV-h', type: 'outbound-rtp', kind: 'video', bytesSent: bytesVideo, frameWidth: 1280, frameHeight: 720, framesPerSecond: 29.97 },
    { id: 'OV-l', type: 'outbound-rtp', kind: 'video', bytesSent: bytesVideo / 4, frameWidth: 320, frameHeight: 180, framesPerSecond: 15 },
    { id: 'OA', type: 'outbound-rtp', kind: 'audio', bytesSent: bytesAudio },
    { id: 'RI', type: 'remote-inbound-rtp', kind: 'video', roundTripTime: 0.05, jitter: 0.004, fractionLost: 0.01 },
    { id: 'C1', type: 'codec', mimeType: 'video/VP8' },
  ];
}
function subscriber(received: number, lost: number, bytes: number): RtcStat[] {
  return [
    { id: 'T01', type: 'transport', selectedCandidatePairId: 'CPx', iceState: 'connected' },
    { id: 'CPx', type: 'candidate-pair', state: 'succeeded', localCandidateId: 'Lx', currentRoundTripTime: 0.1 },
    { id: 'Lx', type: 'local-candidate', candidateType: 'srflx', protocol: 'tcp' },
    { id: 'IV', type: 'inbound-rtp', kind: 'video', bytesReceived: bytes, packetsReceived: received, packetsLost: lost, jitter: 0.012, frameWidth: 640, frameHeight: 360, framesPerSecond: 24 },
  ];
}

describe('toSample', () => {
  it('gives rates only from the second snapshot on, from byte deltas over the interval', () => {
    const first = toSample([{ pc: 'pub', stats: publisher(1_000_000, 100_000) }], {}, 10_000);
    assert.equal(first.sample?.video_bitrate_kbps, undefined);
    assert.equal(first.sample?.latency_ms, 42);
    // 10 s later: video +1,250,000 bytes (both layers) = 1000 kbit/s; audio +40,000 bytes = 32 kbit/s.
    const second = toSample([{ pc: 'pub', stats: publisher(2_000_000, 140_000) }], first.counters, 20_000);
    assert.deepEqual(second.sample, {
      recorded_at: new Date(20_000).toISOString(),
      audio_bitrate_kbps: 32,
      video_bitrate_kbps: 1000,
      latency_ms: 42,
      jitter_ms: 4,
      packet_loss_percent: 1,
      bandwidth_kbps: 2500,
      video_resolution: '1280x720',
      video_fps: 30,
      connection_type: 'udp',
      ice_state: 'connected',
    });
  });

  it('measures what it receives when it sends nothing of a kind, with loss over the interval', () => {
    const reports = (r: number, l: number, b: number): TaggedReport[] => [{ pc: 'sub', stats: subscriber(r, l, b) }];
    const a = toSample(reports(1000, 0, 500_000), {}, 0);
    const b = toSample(reports(1900, 100, 750_000), a.counters, 2000);
    assert.equal(b.sample?.video_bitrate_kbps, 1000);
    assert.equal(b.sample?.audio_bitrate_kbps, undefined);
    assert.equal(b.sample?.packet_loss_percent, 10);
    assert.equal(b.sample?.jitter_ms, 12);
    assert.equal(b.sample?.latency_ms, 100);
    assert.equal(b.sample?.video_resolution, '640x360');
    assert.equal(b.sample?.connection_type, 'tcp');
    assert.equal(b.sample?.bandwidth_kbps, 1000);
  });

  it('does not invent rates when counters go backwards (a track was replaced) and skips empty snapshots', () => {
    const a = toSample([{ pc: 'pub', stats: publisher(5_000_000, 100_000) }], {}, 0);
    const b = toSample([{ pc: 'pub', stats: publisher(1_000, 100_100) }], a.counters, 1000);
    assert.equal(b.sample?.video_bitrate_kbps, undefined);
    assert.equal(b.sample?.audio_bitrate_kbps, 0.8);
    assert.equal(toSample([], {}, 0).sample, null);
  });

  it("measures rates on the stats' own clock when they carry one", () => {
    const at = (ts: number, bytes: number): TaggedReport[] => [
      { pc: 'pub', stats: [{ id: 'OA', type: 'outbound-rtp', kind: 'audio', bytesSent: bytes, timestamp: ts }] },
    ];
    const a = toSample(at(1000, 0), {}, 99_000);
    // Collected 5 s apart (stat clock), though both ran within 10 ms of wall time.
    const b = toSample(at(6000, 20_000), a.counters, 99_010);
    assert.equal(b.sample?.audio_bitrate_kbps, 32);
  });

  it('names a relayed connection relay', () => {
    const stats = publisher(1, 1).map((s) => (s.id === 'CP1' ? { ...s, localCandidateId: 'L2' } : s));
    assert.equal(toSample([{ pc: 'pub', stats }], {}, 0).sample?.connection_type, 'relay');
  });
});
