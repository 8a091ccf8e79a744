import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from 'typebox';
import { requireUser } from '../../http/authenticate.ts';
import { OPTIONAL_BODY } from '../../http/openapi.ts';
import { bearer, errorResponses, Nullable, PageQuery, Timestamp, Uuid } from '../../http/schemas.ts';
import type { RoomsService } from './rooms.service.ts';

const RoleEnum = Type.Union([
  Type.Literal('host'),
  Type.Literal('moderator'),
  Type.Literal('participant'),
  Type.Literal('viewer'),
]);

const Room = Type.Object({
  call_id: Uuid,
  room_id: Nullable(Type.String({ description: 'LiveKit room sid, when LiveKit created the room' })),
  room_name: Type.String({ description: 'LiveKit room name' }),
  name: Type.String(),
  created_by: Uuid,
  call_type: Type.String(),
  status: Type.String(),
  privacy: Type.String(),
  max_participants: Type.Integer(),
  participant_count: Type.Integer(),
  recording_enabled: Type.Boolean(),
  screen_sharing_enabled: Type.Boolean(),
  file_sharing_enabled: Type.Boolean(),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  created_at: Timestamp,
});

const CreateRoom = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 255 }),
    call_type: Type.Optional(
      Type.Union([Type.Literal('one_to_one'), Type.Literal('group'), Type.Literal('conference'), Type.Literal('broadcast')]),
    ),
    max_participants: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    privacy: Type.Optional(Type.Union([Type.Literal('private'), Type.Literal('public')])),
    recording_enabled: Type.Optional(Type.Boolean()),
    screen_sharing_enabled: Type.Optional(Type.Boolean()),
    file_sharing_enabled: Type.Optional(Type.Boolean()),
    metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'JSON object, at most 16 KiB' })),
    invitees: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 64, description: 'user id or AuraID' }), { maxItems: 100 }),
    ),
  },
  { additionalProperties: false },
);

const TokenBody = Type.Object(
  {
    display_name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    role: Type.Optional(RoleEnum),
    metadata: Type.Optional(
      Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.String({ maxLength: 4096 })], {
        description: 'participant metadata for LiveKit: a JSON object or a string, at most 4 KiB',
      }),
    ),
  },
  { additionalProperties: false },
);

export const TokenPayload = Type.Object({
  token: Type.String(),
  ws_url: Nullable(Type.String({ description: 'LiveKit URL for clients; null when LiveKit is not configured' })),
  call_id: Uuid,
  room_name: Type.String(),
  identity: Type.String(),
  display_name: Type.String(),
  participant_id: Uuid,
  role: RoleEnum,
  expires_at: Timestamp,
  quality_token: Type.String({
    description:
      'For POST /calls/{call_id}/quality without a Bearer token (guests), in x-quality-token: this seat of this call only, ' +
      'valid for 8 hours',
  }),
});

const RoomKey = Type.Object({ room_id: Type.String({ minLength: 1, maxLength: 128, description: 'call_id or room_name' }) });
const ListQuery = Type.Object({
  status: Type.Optional(
    Type.Union([Type.Literal('waiting'), Type.Literal('active'), Type.Literal('ended'), Type.Literal('all')], {
      default: 'all',
    }),
  ),
  ...PageQuery,
});

export const roomsRoutes: FastifyPluginAsync<{ rooms: RoomsService }> = async (app, { rooms }) => {
  const tags = ['rooms'];
  app.post<{ Body: Static<typeof CreateRoom> }>(
    '/rooms',
    {
      schema: {
        tags,
        summary: 'Create a room (and its call)',
        description: 'The LiveKit room and the row are created together or not at all. Invitees (user ids or AuraIDs) may then see the room and get tokens; a blocked invitation is 403, an unknown invitee 404.',
        security: bearer,
        body: CreateRoom,
        response: { 201: Room, ...errorResponses(403, 404, 503) },
      },
    },
    async (request, reply) => reply.code(201).send(await rooms.create(requireUser(request).id, request.body)),
  );

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/rooms',
    {
      schema: {
        tags,
        summary: 'List my rooms',
        description: 'Rooms the caller created, was invited to or took part in, newest first.',
        security: bearer,
        querystring: ListQuery,
        response: { 200: Type.Object({ rooms: Type.Array(Room), next_cursor: Nullable(Type.String()) }), ...errorResponses() },
      },
    },
    async (request) => rooms.list(requireUser(request).id, request.query),
  );

  app.get<{ Params: Static<typeof RoomKey> }>(
    '/rooms/:room_id',
    {
      schema: {
        tags,
        summary: 'Get a room by call_id or room_name',
        security: bearer,
        params: RoomKey,
        response: { 200: Room, ...errorResponses(404) },
      },
    },
    async (request) => rooms.get(requireUser(request).id, request.params.room_id),
  );

  app.delete<{ Params: Static<typeof RoomKey> }>(
    '/rooms/:room_id',
    {
      schema: {
        tags,
        summary: 'Close a room (creator only)',
        description: 'Deletes the LiveKit room, disconnects everyone and ends the call; the call stays in history.',
        security: bearer,
        params: RoomKey,
        response: { 204: Type.Null({ description: 'Closed' }), ...errorResponses(403, 404, 503) },
      },
    },
    async (request, reply) => {
      await rooms.remove(requireUser(request).id, request.params.room_id);
      return reply.code(204).send();
    },
  );

  app.post<{ Params: Static<typeof RoomKey>; Body: Static<typeof TokenBody> }>(
    '/rooms/:room_id/token',
    {
      schema: {
        tags,
        summary: 'Get a LiveKit join token for a room',
        description: 'The body may be left out. ROOM_FULL (403) when max_participants are connected; CALL_ENDED (409) once the call ended; host/moderator only for the creator (else 403).',
        security: bearer,
        params: RoomKey,
        body: TokenBody,
        ...OPTIONAL_BODY,
        response: { 200: TokenPayload, ...errorResponses(403, 404, 409) },
      },
      // Every field is optional, so a bodyless POST means "defaults".
      preValidation: async (request) => {
        if (request.body === undefined || request.body === null) request.body = {};
      },
    },
    async (request) => rooms.token(requireUser(request).id, request.params.room_id, request.body),
  );
};
