import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { errorResponses } from '../../http/schemas.ts';
import type { WebhooksService } from './webhooks.service.ts';

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
      config: { skipAuth: true, rateLimit: false },
      schema: {
        tags: ['webhooks'],
        description: "LiveKit webhook receiver (body as LiveKit sends it, signed Authorization header).",
        response: { 200: Type.Object({ status: Type.String() }), ...errorResponses(401, 503) },
      },
    },
    async (request) => {
      const raw = typeof request.body === 'string' ? request.body : '';
      const event = await webhooks.verify(raw, request.headers.authorization);
      return { status: await webhooks.handle(event) };
    },
  );
};
