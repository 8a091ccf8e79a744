import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { docOnly } from '../../http/openapi.ts';
import { publicErrorResponses } from '../../http/schemas.ts';
import type { WebhooksService } from './webhooks.service.ts';

const LiveKitEvent = Type.Object(
  {
    id: Type.String(),
    event: Type.String({ description: 'room_started, room_finished, participant_joined, participant_left, track_published, ...' }),
    createdAt: Type.String({ description: 'unix seconds' }),
    room: Type.Optional(Type.Object({ sid: Type.String(), name: Type.String() }, { additionalProperties: true })),
    participant: Type.Optional(Type.Object({ sid: Type.String(), identity: Type.String() }, { additionalProperties: true })),
    track: Type.Optional(Type.Object({ sid: Type.String() }, { additionalProperties: true })),
  },
  { additionalProperties: true, description: "LiveKit's WebhookEvent as JSON" },
);

// Not wrapped in fastify-plugin on purpose: the raw-string body parsers below must
// stay scoped to this route, every other route keeps the normal JSON parser.
export const webhooksRoutes: FastifyPluginAsync<{ webhooks: WebhooksService }> = async (app, { webhooks }) => {
  // The signature covers the exact bytes sent, so the body is kept as the string it was.
  const keepRaw = (_req: unknown, body: string | Buffer, done: (err: null, body: string) => void) =>
    done(null, typeof body === 'string' ? body : body.toString('utf8'));
  app.addContentTypeParser('application/webhook+json', { parseAs: 'string' }, keepRaw);
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, keepRaw);

  app.post(
    '/webhooks/livekit',
    {
      // skipAuth: the Authorization header is LiveKit's signature, not a user token.
      // No rate limit: LiveKit bursts on busy rooms and retries; forgeries cost one HMAC.
      config: {
        skipAuth: true,
        rateLimit: false,
        // The body is kept raw for the signature check, so its schema is documentation only.
        ...docOnly({ body: { 'application/webhook+json': { schema: LiveKitEvent }, 'application/json': { schema: LiveKitEvent } } }),
      },
      schema: {
        tags: ['webhooks'],
        summary: 'Receive a LiveKit webhook',
        description:
          'Body as LiveKit sends it (application/webhook+json), with LiveKit\'s signed Authorization header; ' +
          'a bad or missing signature is 401 and changes nothing. Duplicates and reordering are harmless.',
        response: {
          200: Type.Object({ status: Type.String({ description: 'applied, duplicate, unknown_room or ignored' }) }),
          ...publicErrorResponses(401, 503),
        },
      },
    },
    async (request) => {
      const raw = typeof request.body === 'string' ? request.body : '';
      const event = await webhooks.verify(raw, request.headers.authorization);
      return { status: await webhooks.handle(event) };
    },
  );
};
