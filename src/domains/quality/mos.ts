// Estimated call quality (MOS, 1..4.5 on the 0..5 scale) from network measurements,
// after the ITU-T G.107 E-model as simplified for monitoring tools:
//
//   effective latency  Le = latency + 2 * jitter + 10 ms   (jitter counts double: the
//                      jitter buffer adds delay; 10 ms for codec/packetisation)
//   R = 93.2 - Le / 40                  when Le < 160 ms
//   R = 93.2 - (Le - 120) / 10          otherwise (delay hurts faster past ~160 ms)
//   R = R - 2.5 * packet_loss_percent   (each lost percent costs 2.5 R points)
//   R clamped to 0..100
//   MOS = 1 + 0.035 R + 7e-6 R (R - 60) (100 - R), clamped to 1..4.5, 2 decimals
//
// latency_ms is what the client reports (typically WebRTC's round-trip time); the
// model treats it as the delay term as is, which errs on the pessimistic side.
// A missing measurement counts as 0; a sample with none of the three gets no score.

export interface NetworkSample {
  latency_ms?: number | null;
  jitter_ms?: number | null;
  packet_loss_percent?: number | null;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

export function rFactor(s: NetworkSample): number {
  const latency = s.latency_ms ?? 0;
  const jitter = s.jitter_ms ?? 0;
  const loss = s.packet_loss_percent ?? 0;
  const effective = latency + 2 * jitter + 10;
  const r = effective < 160 ? 93.2 - effective / 40 : 93.2 - (effective - 120) / 10;
  return clamp(r - 2.5 * loss, 0, 100);
}

export function mosFromR(r: number): number {
  const mos = 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r);
  return Math.round(clamp(mos, 1, 4.5) * 100) / 100;
}

/** The score for a sample, or null when it carries no network measurement at all. */
export function estimateMos(s: NetworkSample): number | null {
  if (s.latency_ms == null && s.jitter_ms == null && s.packet_loss_percent == null) return null;
  return mosFromR(rFactor(s));
}
