import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { requireUser } from '../../http/authenticate.ts';
import { docOnly } from '../../http/openapi.ts';
import { bearer, errorResponses } from '../../http/schemas.ts';
import { RESUME_WINDOW_SECONDS, type EventsService, type LiveEvent } from './events.service.ts';

const HEARTBEAT_MS = 15_000;

export const eventsRoutes: FastifyPluginAsync<{ events: EventsService; heartbeatMs?: number }> = async (
  app,
  { events, heartbeatMs = HEARTBEAT_MS },
) => {
  const open = new Set<() => void>();
  // Streams never end by themselves; close them first so shutdown is not held up.
  app.addHook('preClose', async () => {
    for (const close of [...open]) close();
  });

  app.get<{ Querystring: { last_event_id?: string } }>(
    '/events',
    {
      schema: {
        tags: ['events'],
        summary: 'Live events of my calls (server-sent events)',
        security: bearer,
        description:
          'Server-sent events for the signed-in user: call.created, call.started, call.ended, participant.joined, ' +
          'participant.left, participant.media_changed (and other domains\' events) for calls the user may see. ' +
          `Send Last-Event-ID (or ?last_event_id=) to resume within ${RESUME_WINDOW_SECONDS} s. ` +
          'Comment lines are heartbeats.',
        querystring: Type.Object({ last_event_id: Type.Optional(Type.String({ pattern: '^[0-9]{1,18}$' })) }),
        response: errorResponses(),
      },
      config: {
        rateLimit: false,
        ...docOnly({
          responses: {
            200: {
              description:
                'An endless text/event-stream. Each event: `id: <event_id>`, `event: <type>`, `data: <JSON of the event>` ' +
                '(event_id, type, call_id, payload, created_at).',
              content: { 'text/event-stream': { schema: Type.String() } },
            },
          },
        }),
      },
    },
    async (request, reply) => {
      const user = requireUser(request);
      const header = request.headers['last-event-id'];
      const raw = (typeof header === 'string' ? header : undefined) ?? request.query.last_event_id;
      const lastEventId = raw !== undefined && /^[0-9]{1,18}$/.test(raw.trim()) ? Number(raw.trim()) : null;

      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write(`retry: 3000\n: connected\n\n`);

      const send = (e: LiveEvent) => {
        res.write(`id: ${e.event_id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
      };
      let unsubscribe: (() => void) | null = null;
      const heartbeat = setInterval(() => res.write(`: heartbeat ${new Date().toISOString()}\n\n`), heartbeatMs);
      const close = () => {
        clearInterval(heartbeat);
        unsubscribe?.();
        open.delete(close);
        if (!res.writableEnded) res.end();
      };
      open.add(close);
      request.raw.on('close', close);
      try {
        unsubscribe = await events.subscribe(user.id, lastEventId, send);
        if (res.writableEnded) unsubscribe();
      } catch (err) {
        request.log.warn({ err }, 'event stream could not subscribe');
        res.write(`event: error\ndata: {"code":"UPSTREAM_UNAVAILABLE"}\n\n`);
        close();
      }
    },
  );
};
