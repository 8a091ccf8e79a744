import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import { requireUser } from '../../http/authenticate.ts';
import { bearer, errorResponses, Nullable, Timestamp, Uuid } from '../../http/schemas.ts';
import { BUCKET_SECONDS, type QualityService } from './quality.service.ts';

// Upper bounds follow the column types, so a valid request never overflows them.
const Percent = Type.Number({ minimum: 0, maximum: 100 });
const Ms = Type.Number({ minimum: 0, maximum: 99_999_999 });
const Rate = Type.Number({ minimum: 0, maximum: 9_999_999_999 });

const Sample = Type.Object(
  {
    recorded_at: Type.Optional(Type.String({ format: 'date-time', description: 'Defaults to the time received' })),
    packet_loss_percent: Type.Optional(Percent),
    jitter_ms: Type.Optional(Ms),
    latency_ms: Type.Optional(Ms),
    bandwidth_kbps: Type.Optional(Rate),
    video_resolution: Type.Optional(Type.String({ maxLength: 32 })),
    video_fps: Type.Optional(Type.Number({ minimum: 0, maximum: 9999 })),
    audio_bitrate_kbps: Type.Optional(Ms),
    video_bitrate_kbps: Type.Optional(Ms),
    connection_type: Type.Optional(Type.Union([Type.Literal('udp'), Type.Literal('tcp'), Type.Literal('relay')])),
    ice_state: Type.Optional(Type.String({ maxLength: 32 })),
    quality_score: Type.Optional(
      Nullable(Type.Number({ minimum: 0, maximum: 5, description: 'MOS 0..5; estimated by the server when absent' })),
    ),
  },
  { additionalProperties: false },
);

const Report = Type.Object(
  { samples: Type.Array(Sample, { minItems: 1, maxItems: 100 }) },
  { additionalProperties: false },
);

const Num = Nullable(Type.Number());
const Stats = {
  samples: Type.Number(),
  min_quality_score: Num,
  avg_packet_loss_percent: Num,
  max_packet_loss_percent: Num,
  avg_latency_ms: Num,
  max_latency_ms: Num,
  avg_jitter_ms: Num,
  max_jitter_ms: Num,
  first_sample_at: Nullable(Timestamp),
  last_sample_at: Nullable(Timestamp),
};

const QualityReport = Type.Object({
  summary: Type.Object({
    call_id: Uuid,
    avg_quality_score: Num,
    scored_samples: Type.Number(),
    bucket_seconds: Type.Number(),
    ...Stats,
  }),
  participants: Type.Array(
    Type.Object({
      participant_id: Uuid,
      user_id: Nullable(Uuid),
      identity: Type.String(),
      display_name: Nullable(Type.String()),
      avg_quality_score: Num,
      ...Stats,
    }),
  ),
  series: Type.Array(
    Type.Object({
      bucket_start: Timestamp,
      samples: Type.Number(),
      avg_quality_score: Num,
      min_quality_score: Num,
      avg_packet_loss_percent: Num,
      avg_latency_ms: Num,
      avg_jitter_ms: Num,
    }),
  ),
});

const SeriesQuery = Type.Object(
  {
    bucket_seconds: Type.Optional(
      Type.Union(BUCKET_SECONDS.map((b) => Type.Literal(b)), { description: 'Default: chosen for ~120 points' }),
    ),
    from: Type.Optional(Type.String({ format: 'date-time' })),
    to: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
);

const Params = Type.Object({ call_id: Uuid });
const tags = ['quality'];

const QUALITY_TOKEN = 'x-quality-token';
const ReportHeaders = Type.Object({
  [QUALITY_TOKEN]: Type.Optional(
    Type.String({
      maxLength: 200,
      description:
        'Without a Bearer token (a guest): the quality_token of the join token payload, for this call and that seat only',
    }),
  ),
});

export const qualityRoutes: FastifyPluginAsync<{ quality: QualityService }> = async (app, { quality }) => {
  // The seat a guest's quality token names, verified before validation (like a Bearer
  // token: a bad credential is 401 whatever the body).
  const seats = new WeakMap<FastifyRequest, string>();
  app.addHook('preValidation', async (request) => {
    const token = request.headers[QUALITY_TOKEN];
    if (request.method === 'POST' && !request.user && token !== undefined) {
      const { call_id: callId } = request.params as { call_id?: string };
      seats.set(request, quality.seatFromToken(callId ?? '', token));
      return;
    }
    requireUser(request);
  });

  app.post<{ Params: Static<typeof Params>; Body: Static<typeof Report> }>(
    '/calls/:call_id/quality',
    {
      schema: {
        tags,
        summary: 'Report quality samples of my connection (Bearer, or a guest\'s x-quality-token)',
        // Bearer, or no Bearer and the x-quality-token header parameter (a guest's
        // credential for this route only, so a parameter rather than a security scheme).
        security: [...bearer, {}],
        description:
          'A participant reports 1..100 samples about its own connection; quality_score (0..5) is computed when absent. ' +
          'A signed-in user sends its Bearer token (not a participant of the call: 403). A guest, who has no user, sends ' +
          'the quality_token of its join token payload in x-quality-token: samples are written for that seat of that call ' +
          'only; an invalid, tampered or expired token, or one for another call, is 401; a seat not in the call is 404.',
        params: Params,
        headers: ReportHeaders,
        body: Report,
        response: { 202: Type.Object({ accepted: Type.Number() }), ...errorResponses(403, 404, 503) },
      },
    },
    async (request, reply) => {
      const { call_id: callId } = request.params;
      const seat = seats.get(request);
      const result = seat
        ? await quality.reportForSeat(callId, seat, request.body.samples)
        : await quality.report(requireUser(request).id, callId, request.body.samples);
      return reply.code(202).send(result);
    },
  );

  app.get<{ Params: Static<typeof Params>; Querystring: Static<typeof SeriesQuery> }>(
    '/calls/:call_id/quality',
    {
      schema: {
        tags,
        summary: 'Quality of a call: summary, per participant, time series',
        security: bearer,
        params: Params,
        querystring: SeriesQuery,
        response: { 200: QualityReport, ...errorResponses(403, 404) },
      },
    },
    async (request) => quality.read(requireUser(request).id, request.params.call_id, request.query),
  );
};
