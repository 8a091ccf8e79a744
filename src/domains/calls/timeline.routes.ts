// A call's timeline and each participant's quality over time, for the call's page.
import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from 'typebox';
import { requireUser } from '../../http/authenticate.ts';
import { bearer, errorResponses, Nullable, Timestamp, Uuid } from '../../http/schemas.ts';
import type { TimelineService } from './timeline.service.ts';

const Event = Type.Object({
  at: Timestamp,
  type: Type.String({ description: 'joined | published | unpublished | left | disconnected' }),
  source: Type.Optional(Type.String({ description: 'camera | microphone | screen_share | screen_share_audio | unknown' })),
  reason: Type.Optional(Nullable(Type.String({ description: "LiveKit's disconnect reason, when it gave one" }))),
});

const SessionTimeline = Type.Object({
  participant_id: Uuid,
  user_id: Nullable(Uuid),
  identity: Type.String(),
  display_name: Nullable(Type.String()),
  status: Type.String({ description: 'connected|disconnected|left' }),
  events: Type.Array(Event),
});

const Point = Type.Object({
  at: Timestamp,
  samples: Type.Integer(),
  rtt_ms: Nullable(Type.Number()),
  jitter_ms: Nullable(Type.Number()),
  packet_loss_percent: Nullable(Type.Number()),
  bitrate_kbps: Nullable(Type.Number({ description: 'audio plus video' })),
  mos: Nullable(Type.Number()),
});

const ParticipantSeries = Type.Object({
  participant_id: Uuid,
  user_id: Nullable(Uuid),
  identity: Type.String(),
  display_name: Nullable(Type.String()),
  points: Type.Array(Point),
});

/** Also the operator's view of any call (admin.routes.ts): one shape for both. */
export const ParticipantQuality = Type.Object({
  call_id: Uuid,
  bucket_seconds: Type.Integer(),
  participants: Type.Array(ParticipantSeries),
});

const CallParams = Type.Object({ call_id: Uuid });

export const timelineRoutes: FastifyPluginAsync<{ timeline: TimelineService }> = async (app, { timeline }) => {
  const tags = ['calls'];
  app.get<{ Params: Static<typeof CallParams> }>(
    '/calls/:call_id/timeline',
    {
      schema: {
        tags,
        summary: "A call's timeline per participant session",
        description:
          'Per LiveKit session (a reconnect is a new session of the same identity): joined, tracks published and ' +
          'unpublished (microphone, camera, screen share), left or disconnected with the reason. Creator or participant, else 404.',
        security: bearer,
        params: CallParams,
        response: {
          200: Type.Object({ call_id: Uuid, participants: Type.Array(SessionTimeline) }),
          ...errorResponses(404),
        },
      },
    },
    async (request) => timeline.timeline(requireUser(request).id, request.params.call_id),
  );

  app.get<{ Params: Static<typeof CallParams> }>(
    '/calls/:call_id/quality/participants',
    {
      schema: {
        tags: ['quality'],
        summary: "Each participant's quality over time",
        description:
          'Per session, the samples averaged per bucket (bucket_seconds, chosen to keep a session under 240 points): ' +
          'round-trip time, jitter, packet loss, bitrate and MOS. Empty buckets are absent. Creator or participant, else 404.',
        security: bearer,
        params: CallParams,
        response: {
          200: ParticipantQuality,
          ...errorResponses(404),
        },
      },
    },
    async (request) => timeline.qualityByParticipant(requireUser(request).id, request.params.call_id),
  );
};
