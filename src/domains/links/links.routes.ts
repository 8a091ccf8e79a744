// Signed-in link management and the creator's side of the waiting room.
import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from 'typebox';
import { requireUser } from '../../http/authenticate.ts';
import { bearer, errorResponses, Nullable, PageQuery, Timestamp, Uuid } from '../../http/schemas.ts';
import type { JoinService } from './join.service.ts';
import type { LinksService } from './links.service.ts';

const Access = Type.Union([Type.Literal('public'), Type.Literal('password'), Type.Literal('restricted')]);
const Role = Type.Union([Type.Literal('moderator'), Type.Literal('participant'), Type.Literal('viewer')]);
const Password = Type.String({ minLength: 4, maxLength: 128 });
const MaxUses = Type.Integer({ minimum: 1, maximum: 1_000_000 });
const ExpiresIn = Type.Integer({ minimum: 60, maximum: 365 * 86_400 });

const NewLink = Type.Object(
  {
    call_id: Uuid,
    link_type: Type.Optional(Type.Union([Type.Literal('room'), Type.Literal('call')])),
    title: Type.Optional(Type.String({ maxLength: 255 })),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    access_type: Type.Optional(Access),
    password: Type.Optional(Password),
    max_uses: Type.Optional(MaxUses),
    expires_in_seconds: Type.Optional(ExpiresIn),
    default_role: Type.Optional(Role),
    require_approval: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const LinkPatch = Type.Object(
  {
    title: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
    description: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
    access_type: Type.Optional(Access),
    password: Type.Optional(Password),
    max_uses: Type.Optional(Nullable(MaxUses)),
    expires_in_seconds: Type.Optional(Nullable(ExpiresIn)),
    default_role: Type.Optional(Role),
    require_approval: Type.Optional(Type.Boolean()),
    is_active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);

const Link = Type.Object({
  link_id: Uuid,
  short_code: Type.String(),
  url: Type.String(),
  call_id: Uuid,
  link_type: Type.String(),
  title: Nullable(Type.String()),
  description: Nullable(Type.String()),
  access_type: Access,
  max_uses: Nullable(Type.Integer()),
  current_uses: Type.Integer(),
  expires_at: Nullable(Timestamp),
  default_role: Role,
  require_approval: Type.Boolean(),
  is_active: Type.Boolean(),
  total_clicks: Type.Integer(),
  unique_visitors: Type.Integer({ description: 'Distinct (client address, user agent) per UTC day, summed' }),
  last_used_at: Nullable(Timestamp),
  created_at: Timestamp,
});

const JoinRequest = Type.Object({
  request_id: Uuid,
  link_id: Uuid,
  call_id: Uuid,
  user_id: Nullable(Uuid),
  display_name: Type.String(),
  role: Type.String(),
  status: Type.Union(['pending', 'approved', 'denied', 'expired'].map((s) => Type.Literal(s))),
  created_at: Timestamp,
  expires_at: Timestamp,
  decided_at: Nullable(Timestamp),
  token_issued: Type.Boolean(),
});

const LinkParams = Type.Object({ link_id: Uuid });
const Day = Type.String({ format: 'date', description: 'UTC date, YYYY-MM-DD' });
const StatsQuery = Type.Object({ from: Type.Optional(Day), to: Type.Optional(Day) }, { additionalProperties: false });
export const VisitDay = Type.Object({ day: Day, clicks: Type.Integer(), unique_visitors: Type.Integer() });
const LinkStats = Type.Object({ link_id: Uuid, days: Type.Array(VisitDay) });
const RoomKey = Type.Object({ room_id: Type.String({ minLength: 1, maxLength: 128, description: 'call_id or room_name' }) });
const DecideParams = Type.Object({ ...RoomKey.properties, request_id: Uuid });
const ListLinks = Type.Object({ call_id: Type.Optional(Uuid), ...PageQuery }, { additionalProperties: false });
const ListRequests = Type.Object(
  {
    status: Type.Optional(
      Type.Union(['pending', 'approved', 'denied', 'expired', 'all'].map((s) => Type.Literal(s)), { default: 'pending' }),
    ),
    ...PageQuery,
  },
  { additionalProperties: false },
);

export const linksRoutes: FastifyPluginAsync<{ links: LinksService; join: JoinService }> = async (app, { links, join }) => {
  app.addHook('preValidation', async (request) => {
    requireUser(request);
  });
  const tags = ['links'];

  app.post<{ Body: Static<typeof NewLink> }>(
    '/links',
    {
      schema: {
        tags,
        summary: 'Create an invite link for a call (creator only)',
        description: 'access_type password needs a password; restricted admits signed-in contacts of the creator only.',
        security: bearer,
        body: NewLink,
        response: { 201: Link, ...errorResponses(403, 404) },
      },
    },
    async (request, reply) => reply.code(201).send(await links.create(requireUser(request).id, request.body)),
  );

  app.get<{ Querystring: Static<typeof ListLinks> }>(
    '/links',
    {
      schema: {
        tags,
        summary: 'List my invite links',
        security: bearer,
        querystring: ListLinks,
        response: { 200: Type.Object({ links: Type.Array(Link), next_cursor: Nullable(Type.String()) }), ...errorResponses() },
      },
    },
    async (request) => links.list(requireUser(request).id, request.query),
  );

  app.get<{ Params: Static<typeof LinkParams> }>(
    '/links/:link_id',
    {
      schema: { tags, summary: 'Get an invite link', security: bearer, params: LinkParams, response: { 200: Link, ...errorResponses(404) } },
    },
    async (request) => links.get(requireUser(request).id, request.params.link_id),
  );

  app.get<{ Params: Static<typeof LinkParams>; Querystring: Static<typeof StatsQuery> }>(
    '/links/:link_id/stats',
    {
      schema: {
        tags,
        summary: "An invite link's clicks and unique visitors per UTC day",
        description:
          'from and to are UTC dates (YYYY-MM-DD), both included; the default is the last 30 days, at most 1096. ' +
          'Days without a click are absent. A visitor (client address and user agent, never stored) counts once per day. ' +
          "The link's creator only, else 404.",
        security: bearer,
        params: LinkParams,
        querystring: StatsQuery,
        response: { 200: LinkStats, ...errorResponses(400, 404) },
      },
    },
    async (request) => links.stats(requireUser(request).id, request.params.link_id, request.query),
  );

  app.put<{ Params: Static<typeof LinkParams>; Body: Static<typeof LinkPatch> }>(
    '/links/:link_id',
    {
      schema: {
        tags,
        summary: 'Update an invite link (partial)',
        security: bearer,
        params: LinkParams,
        body: LinkPatch,
        response: { 200: Link, ...errorResponses(404, 409) },
      },
    },
    async (request) => links.update(requireUser(request).id, request.params.link_id, request.body),
  );

  app.delete<{ Params: Static<typeof LinkParams> }>(
    '/links/:link_id',
    {
      schema: {
        tags,
        summary: 'Delete an invite link',
        security: bearer,
        params: LinkParams,
        response: { 204: Type.Null({ description: 'Deleted' }), ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      await links.remove(requireUser(request).id, request.params.link_id);
      return reply.code(204).send();
    },
  );

  app.get<{ Params: Static<typeof RoomKey>; Querystring: Static<typeof ListRequests> }>(
    '/rooms/:room_id/join-requests',
    {
      schema: {
        tags,
        summary: 'The waiting room: join requests of a room (creator only)',
        description: 'pending by default; status=all lists every request. New requests also arrive on GET /api/v1/events.',
        security: bearer,
        params: RoomKey,
        querystring: ListRequests,
        response: {
          200: Type.Object({ join_requests: Type.Array(JoinRequest), next_cursor: Nullable(Type.String()) }),
          ...errorResponses(403, 404),
        },
      },
    },
    async (request) => join.listRequests(requireUser(request).id, request.params.room_id, request.query),
  );

  for (const [action, decision] of [['approve', 'approved'], ['deny', 'denied']] as const) {
    app.post<{ Params: Static<typeof DecideParams> }>(
      `/rooms/:room_id/join-requests/:request_id/${action}`,
      {
        schema: {
          tags,
          summary: action === 'approve' ? 'Admit a waiting guest' : 'Turn a waiting guest away',
          security: bearer,
          params: DecideParams,
          response: { 200: JoinRequest, ...errorResponses(403, 404, 409, 410) },
        },
      },
      async (request) =>
        join.decide(requireUser(request).id, request.params.room_id, request.params.request_id, decision),
    );
  }
};
