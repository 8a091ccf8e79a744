// Call quality: participants report samples about their own connection (users by
// their Bearer token, guests by the quality token of their join); members of the call
// read a summary, per-participant statistics and a bucketed time series.
import type { Database } from '../../db/database.ts';
import { retryOnConflict } from '../../db/retry.ts';
import { forbidden, notFound, unauthorized, validation } from '../../errors.ts';
import { estimateMos } from './mos.ts';
import { verifyQualityToken } from './quality-token.ts';
import * as repo from './quality.repo.ts';

// Clocks drift; samples stamped further ahead than this are refused, not trusted.
const MAX_CLOCK_SKEW_MS = 5 * 60_000;
// Bucket widths the series may use; the automatic choice keeps a plot to ~120 points.
export const BUCKET_SECONDS = [10, 30, 60, 300, 900, 3600, 21_600, 86_400] as const;
const AUTO_MAX_BUCKETS = 120;
const MAX_BUCKETS = 1000;

export interface SeriesOptions {
  bucket_seconds?: number;
  from?: string;
  to?: string;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The smallest listed width giving at most ~120 buckets; whole days beyond that. */
export function chooseBucket(spanMs: number): number {
  const listed = BUCKET_SECONDS.find((b) => spanMs / (b * 1000) <= AUTO_MAX_BUCKETS);
  return listed ?? Math.ceil(spanMs / AUTO_MAX_BUCKETS / 86_400_000) * 86_400;
}

/** Refuses samples stamped in the future; estimates the score of those without one. */
function score(samples: repo.Sample[]): repo.Sample[] {
  const latest = Date.now() + MAX_CLOCK_SKEW_MS;
  return samples.map((s, i) => {
    if (s.recorded_at !== undefined && Date.parse(s.recorded_at) > latest) {
      throw validation('recorded_at is in the future', { sample: i });
    }
    return { ...s, quality_score: s.quality_score ?? estimateMos(s) };
  });
}

export class QualityService {
  constructor(
    private readonly db: Database,
    /** Signs and checks quality tokens (URL_SIGNING_SECRET). */
    private readonly tokenSecret: string,
  ) {}

  /** A participant that is a signed-in user reports about its own seat (RLS checks the seat is theirs). */
  async report(userId: string, callId: string, samples: repo.Sample[]): Promise<{ accepted: number }> {
    const scored = score(samples);
    // Nothing here acts outside the database, so a deadlock victim may run again.
    const accepted = await retryOnConflict(() =>
      this.db.asUser(userId, async (sql) => {
        const access = await repo.callAccess(sql, callId);
        if (access === 'none') throw notFound('Call');
        const participantId = await repo.ownParticipant(sql, callId, userId);
        if (!participantId) throw forbidden('Only participants of the call report quality');
        return repo.insertSamples(sql, callId, participantId, scored);
      }),
    );
    return { accepted };
  }

  /**
   * The seat a quality token (x-quality-token) lets its bearer report for in this
   * call: 401 when it is not one of ours for this call, or has expired.
   */
  seatFromToken(callId: string, token: unknown): string {
    const grant = verifyQualityToken(this.tokenSecret, callId, token);
    if (!grant.ok) throw unauthorized(grant.reason === 'expired' ? 'The quality token has expired' : 'Invalid quality token');
    return grant.participantId;
  }

  /** A guest (no user) reports about the seat its verified quality token names: 404 when that seat is not the call's. */
  async reportForSeat(callId: string, participantId: string, samples: repo.Sample[]): Promise<{ accepted: number }> {
    const scored = score(samples);
    const accepted = await retryOnConflict(() =>
      this.db.asUserOne(null, (sql) => repo.insertSeatSamples(sql, callId, participantId, scored)),
    );
    if (accepted === null) throw notFound('Participant');
    return { accepted };
  }

  async read(userId: string, callId: string, opts: SeriesOptions) {
    return this.db.asUser(userId, async (sql) => {
      const access = await repo.callAccess(sql, callId);
      if (access === 'none') throw notFound('Call');
      if (access !== 'member') throw forbidden('Only members of the call see its quality');
      const s = await repo.summary(sql, callId);
      const participants = await repo.participantStats(sql, callId);

      const from = opts.from ? new Date(opts.from) : s.first_sample_at;
      // The series' end is exclusive: one microsecond past the last sample keeps it in.
      const to = opts.to ? new Date(opts.to) : s.last_sample_at && new Date(s.last_sample_at.getTime() + 1);
      let bucket = opts.bucket_seconds ?? 60;
      let points: repo.SeriesRow[] = [];
      if (from && to) {
        if (to <= from) throw validation('to must be after from');
        const span = to.getTime() - from.getTime();
        bucket = opts.bucket_seconds ?? chooseBucket(span);
        if (span / (bucket * 1000) > MAX_BUCKETS) {
          throw validation(`At most ${MAX_BUCKETS} buckets: choose a larger bucket_seconds or a shorter range`);
        }
        points = await repo.series(sql, callId, bucket, from, to);
      }
      return {
        summary: {
          call_id: callId,
          avg_quality_score: s.avg_quality_score,
          samples: s.samples,
          scored_samples: s.scored_samples,
          min_quality_score: s.min_quality_score,
          avg_packet_loss_percent: s.avg_packet_loss_percent,
          max_packet_loss_percent: s.max_packet_loss_percent,
          avg_latency_ms: s.avg_latency_ms,
          max_latency_ms: s.max_latency_ms,
          avg_jitter_ms: s.avg_jitter_ms,
          max_jitter_ms: s.max_jitter_ms,
          first_sample_at: iso(s.first_sample_at),
          last_sample_at: iso(s.last_sample_at),
          bucket_seconds: bucket,
        },
        participants: participants.map((p) => ({
          ...p,
          first_sample_at: iso(p.first_sample_at),
          last_sample_at: iso(p.last_sample_at),
        })),
        series: points.map((p) => ({ ...p, bucket_start: p.bucket_start.toISOString() })),
      };
    });
  }
}
