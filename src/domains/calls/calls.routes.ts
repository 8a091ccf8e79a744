import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from 'typebox';
import { requireUser } from '../../http/authenticate.ts';
import { bearer, errorResponses, Nullable, PageQuery, Timestamp, Uuid } from '../../http/schemas.ts';
import type { CallsService } from './calls.service.ts';

/** What the history and the operator API both say of a call (each adds its own fields). */
export const callFields = {
  call_id: Uuid,
  room_id: Nullable(Type.String()),
  room_name: Type.String(),
  name: Type.String(),
  call_type: Type.String(),
  status: Type.String(),
  started_at: Nullable(Timestamp),
  ended_at: Nullable(Timestamp),
  duration_seconds: Nullable(Type.Integer()),
  participant_count: Type.Integer({ description: 'participants connected now' }),
  max_participants: Type.Integer(),
  files_shared: Type.Integer(),
  avg_quality_score: Nullable(Type.Number()),
  creator: Type.Object({ user_id: Uuid, display_name: Nullable(Type.String()), aura_id: Nullable(Type.String()) }),
  created_at: Timestamp,
};

const Call = Type.Object({
  ...callFields,
  people_joined: Type.Integer({ description: 'distinct people who joined (a reconnect counts once)' }),
});

const Participant = Type.Object({
  participant_id: Uuid,
  user_id: Nullable(Uuid),
  identity: Type.String(),
  display_name: Nullable(Type.String()),
  role: Type.String(),
  status: Type.String({ description: 'waiting|connected|disconnected|left' }),
  joined_at: Nullable(Timestamp),
  left_at: Nullable(Timestamp),
  duration_seconds: Nullable(Type.Integer()),
  audio_enabled: Type.Boolean(),
  video_enabled: Type.Boolean(),
  screen_sharing: Type.Boolean(),
  avg_quality_score: Nullable(Type.Number()),
  packet_loss_percent: Nullable(Type.Number()),
  avg_latency_ms: Nullable(Type.Integer()),
  connection_type: Nullable(Type.String()),
});

const ListQuery = Type.Object({
  status: Type.Optional(
    Type.Union(
      [Type.Literal('waiting'), Type.Literal('active'), Type.Literal('ended'), Type.Literal('failed'), Type.Literal('all')],
      { default: 'all', description: 'all: no status filter' },
    ),
  ),
  call_type: Type.Optional(
    Type.Union([Type.Literal('one_to_one'), Type.Literal('group'), Type.Literal('conference'), Type.Literal('broadcast')]),
  ),
  from: Type.Optional(Type.String({ format: 'date-time', description: 'created at or after' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'created before' })),
  ...PageQuery,
});

const CallParams = Type.Object({ call_id: Uuid });
const ParticipantsQuery = Type.Object(PageQuery);

export const callsRoutes: FastifyPluginAsync<{ calls: CallsService }> = async (app, { calls }) => {
  const tags = ['calls'];
  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/calls',
    {
      schema: {
        tags,
        summary: 'My call history',
        description: 'Calls the caller created or took part in, newest first.',
        security: bearer,
        querystring: ListQuery,
        response: { 200: Type.Object({ calls: Type.Array(Call), next_cursor: Nullable(Type.String()) }), ...errorResponses() },
      },
    },
    async (request) => calls.list(requireUser(request).id, request.query),
  );

  app.get<{ Params: Static<typeof CallParams> }>(
    '/calls/:call_id',
    {
      schema: {
        tags,
        summary: 'One call of my history',
        security: bearer,
        params: CallParams,
        response: { 200: Call, ...errorResponses(404) },
      },
    },
    async (request) => calls.get(requireUser(request).id, request.params.call_id),
  );

  app.get<{ Params: Static<typeof CallParams>; Querystring: Static<typeof ParticipantsQuery> }>(
    '/calls/:call_id/participants',
    {
      schema: {
        tags,
        summary: 'The participants of a call',
        description: 'One entry per LiveKit session (a seat handed out with a token and not yet taken is `waiting`), in join order.',
        security: bearer,
        params: CallParams,
        querystring: ParticipantsQuery,
        response: {
          200: Type.Object({ participants: Type.Array(Participant), next_cursor: Nullable(Type.String()) }),
          ...errorResponses(404),
        },
      },
    },
    async (request) => calls.participants(requireUser(request).id, request.params.call_id, request.query),
  );
};
