// Public link endpoints: no token needed (a Bearer token, when sent, is honoured).
import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from 'typebox';
import { prefersHtml } from '../../http/accept.ts';
import { bearer, Nullable, publicErrorResponses, Timestamp, Uuid } from '../../http/schemas.ts';
import { TokenPayload } from '../rooms/rooms.routes.ts';
import type { JoinService } from './join.service.ts';

const Code = Type.Object({ short_code: Type.String({ pattern: '^[A-Za-z0-9_-]{10,64}$' }) });
const RequestParams = Type.Object({ ...Code.properties, request_id: Uuid });

const Preview = Type.Object({
  title: Nullable(Type.String()),
  description: Nullable(Type.String()),
  name: Type.String(),
  call_type: Type.String(),
  access_type: Type.String(),
  requires_password: Type.Boolean(),
  require_approval: Type.Boolean(),
  expires_at: Nullable(Timestamp),
});

const JoinBody = Type.Object(
  {
    display_name: Type.Optional(
      Type.String({ minLength: 1, maxLength: 255, description: 'Required for guests; signed-in users default to their profile' }),
    ),
    password: Type.Optional(Type.String({ maxLength: 128 })),
  },
  { additionalProperties: false },
);

const Pending = Type.Object({
  request_id: Uuid,
  status: Type.Literal('pending'),
  request_secret: Type.String({ description: 'Present it when polling (x-request-secret header or ?secret=)' }),
  expires_at: Timestamp,
});

const PollResult = Type.Object(
  {
    request_id: Uuid,
    status: Type.Union([Type.Literal('pending'), Type.Literal('approved'), Type.Literal('denied')]),
    token_issued_at: Type.Optional(Timestamp),
    // expires_at: the request's while pending, the token's once handed out
    ...Type.Partial(TokenPayload).properties,
  },
  { description: 'The token payload is included once, on the first poll after approval' },
);

const clientOf = (request: { ip: string; headers: Record<string, unknown> }) => ({
  ip: request.ip,
  userAgent: String(request.headers['user-agent'] ?? '').slice(0, 512),
});

export const joinRoutes: FastifyPluginAsync<{ join: JoinService }> = async (app, { join }) => {
  const tags = ['links'];

  // A link's `url` is this route: opened in a browser it is the web app's join page,
  // which then fetches the preview as JSON. The page itself reads nothing and counts no
  // click, so a visitor is counted once, by the fetch, whatever the browser prefetches.
  app.get<{ Params: Static<typeof Code> }>(
    '/join/:short_code',
    {
      schema: {
        tags,
        summary: 'Preview an invite link (public)',
        description: "The link's preview (counts a click). A browser (Accept preferring text/html) gets the web app's join page instead.",
        params: Code,
        response: { 200: Preview, ...publicErrorResponses(404, 410) },
      },
    },
    async (request, reply) => {
      reply.header('vary', 'Accept');
      if (prefersHtml(request.headers.accept)) return reply.sendWebApp();
      return join.preview(request.user, request.params.short_code, clientOf(request));
    },
  );

  app.post<{ Params: Static<typeof Code>; Body: Static<typeof JoinBody> }>(
    '/join/:short_code',
    {
      schema: {
        tags,
        summary: 'Join through an invite link (public; Bearer optional)',
        description:
          '200 with a LiveKit token, or 202 with a request to poll when the link requires approval. ' +
          'Guests must send display_name. Wrong password: 403 INVALID_PASSWORD; too many attempts: 429; ' +
          'expired, used up or inactive: 410 LINK_GONE.',
        security: [{}, ...bearer],
        params: Code,
        body: JoinBody,
        response: { 200: TokenPayload, 202: Pending, ...publicErrorResponses(401, 403, 404, 409, 410) },
      },
    },
    async (request, reply) => {
      const result = await join.join(request.user, request.params.short_code, request.body ?? {}, clientOf(request));
      return reply.code(result.status).send(result.body);
    },
  );

  app.get<{ Params: Static<typeof RequestParams>; Querystring: { secret?: string } }>(
    '/join/:short_code/requests/:request_id',
    {
      schema: {
        tags,
        summary: 'Poll a waiting-room request (public)',
        description:
          'Needs the request_secret of the 202 (x-request-secret header or ?secret=), else 404. ' +
          'The token payload comes once, on the first poll after approval.',
        params: RequestParams,
        querystring: Type.Object({ secret: Type.Optional(Type.String({ maxLength: 128 })) }, { additionalProperties: false }),
        response: { 200: PollResult, ...publicErrorResponses(404, 409, 410) },
      },
    },
    async (request) => {
      const header = request.headers['x-request-secret'];
      const secret = typeof header === 'string' ? header : request.query.secret;
      return join.poll(request.params.short_code, request.params.request_id, secret);
    },
  );
};
