// Builds the Fastify app from its parts. main.ts listens on it; tests inject into it.
import crypto from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { AppContext } from './context.ts';
import { rateLimited } from './errors.ts';
import { createVerifier } from './http/auth.ts';
import { authenticate } from './http/authenticate.ts';
import { clientErrorHandler, connectHandler, requireHost } from './http/client-errors.ts';
import { registerCors } from './http/cors.ts';
import { frameworkErrors, registerErrorHandling } from './http/error-handler.ts';
import { healthRoutes } from './http/health.ts';
import { securityHeaders } from './http/security-headers.ts';
import { createMetrics, instrument } from './http/metrics.ts';
import { ErrorResponse } from './http/schemas.ts';
import { finishDocument, OPENAPI_TAGS } from './http/openapi.ts';
import { usersRoutes } from './domains/users/users.routes.ts';
import { UsersService } from './domains/users/users.service.ts';
import { contactsRoutes } from './domains/contacts/contacts.routes.ts';
import { ContactsService } from './domains/contacts/contacts.service.ts';
import { qualityRoutes } from './domains/quality/quality.routes.ts';
import { QualityService } from './domains/quality/quality.service.ts';
import { joinRoutes } from './domains/links/join.routes.ts';
import { JoinService } from './domains/links/join.service.ts';
import { linksRoutes } from './domains/links/links.routes.ts';
import { LinksService } from './domains/links/links.service.ts';
import { roomsRoutes } from './domains/rooms/rooms.routes.ts';
import { RoomsService } from './domains/rooms/rooms.service.ts';
import { callsRoutes } from './domains/calls/calls.routes.ts';
import { timelineRoutes } from './domains/calls/timeline.routes.ts';
import { TimelineService } from './domains/calls/timeline.service.ts';
import { CallsService } from './domains/calls/calls.service.ts';
import { webhooksRoutes } from './domains/webhooks/webhooks.routes.ts';
import { WebhooksService } from './domains/webhooks/webhooks.service.ts';
import { eventsRoutes } from './domains/events/events.routes.ts';
import { EventsService } from './domains/events/events.service.ts';
import { fileDownloadRoutes } from './domains/files/files.download.ts';
import { filesRoutes } from './domains/files/files.routes.ts';
import { FilesService, SignedDownloads } from './domains/files/files.service.ts';
import { verifyDownload } from './adapters/storage/url-signing.ts';
import { adminRoutes } from './domains/admin/admin.routes.ts';
import { AdminService } from './domains/admin/admin.service.ts';
import { webApp } from './http/web.ts';
import { webConfigRoutes } from './domains/webconfig/webconfig.routes.ts';
import { WebConfigService } from './domains/webconfig/webconfig.service.ts';

export interface RegisteredRoute {
  method: string;
  url: string;
  schema?: unknown;
  config?: unknown;
}

declare module 'fastify' {
  interface FastifyInstance {
    registeredRoutes: RegisteredRoute[];
  }
}

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

export async function buildApp(ctx: AppContext): Promise<FastifyInstance> {
  const { config } = ctx;
  const app = Fastify({
    loggerInstance: ctx.logger as FastifyBaseLogger,
    bodyLimit: config.http.bodyLimitBytes,
    trustProxy: config.trustProxy,
    requestIdHeader: false,
    // One line per request (metrics.ts, when it completes) instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID_RE.test(incoming) ? incoming : crypto.randomUUID();
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
    routerOptions: { maxParamLength: 256 },
    // Errors before a route runs (Node's parser, Fastify's router) answer in the
    // contract's shape too; a missing Host is refused by requireHost, not by Node.
    clientErrorHandler: clientErrorHandler(ctx.logger as FastifyBaseLogger),
    frameworkErrors,
    http: { requireHostHeader: false },
  });
  app.server.on('connect', connectHandler(ctx.logger as FastifyBaseLogger));
  // Hooks that run on every request are callback-style where they can finish at once:
  // an async hook costs a promise and a trip through the microtask queue each time.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  app.addHook('onRequest', requireHost);
  // The route table, for the bad-input walker test and diagnostics.
  const routes: RegisteredRoute[] = [];
  app.decorate('registeredRoutes', routes);
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) routes.push({ method, url: r.url, schema: r.schema, config: r.config });
  });
  registerErrorHandling(app, routes);
  app.addSchema(ErrorResponse);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'AuraLink call service',
        version: '1.0.0',
        description:
          'Control plane for LiveKit video calling: rooms and join tokens, call history, quality, files, ' +
          'invite links with a waiting room, contacts. The reference with the flows is docs/API.md; the ' +
          'typed client generated from this document is clients/ts.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      tags: OPENAPI_TAGS,
    },
    transformObject: (d) => finishDocument('openapiObject' in d ? d.openapiObject : d.swaggerObject),
    // Shared schemas keep their $id as their component name (ErrorResponse, not def-0):
    // the generated client's types are named after them.
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  app.get('/openapi.json', { schema: { hide: true }, config: { skipAuth: true, rateLimit: false } }, async () =>
    app.swagger(),
  );

  securityHeaders(app);
  await registerCors(app, config.http.corsOrigins);

  const registry = createMetrics(ctx.db.pool);
  instrument(app, registry);

  await app.register(authenticate, {
    verify: createVerifier(config),
    onUser: (user) => users.ensure(user),
  });
  await app.register(rateLimit, {
    global: true,
    max: config.rateLimit.max,
    timeWindow: config.rateLimit.windowMs,
    // With Redis down, requests are let through rather than failing: an outage of the
    // limiter's store should not become an outage of the API (readiness shows it).
    ...(ctx.redis ? { redis: ctx.redis, nameSpace: config.rateLimit.redisPrefix, skipOnError: true } : {}),
    // Per user when signed in, else per client address.
    keyGenerator: (request) => (request.user ? `u:${request.user.id}` : `ip:${request.ip}`),
    errorResponseBuilder: (_request, context) => rateLimited(Math.max(1, Math.ceil(context.ttl / 1000))),
  });

  healthRoutes(app, ctx.readiness, ctx.requiredChecks);

  const users = new UsersService(ctx.db);
  const rooms = new RoomsService(ctx.db, ctx.livekit, config);
  const calls = new CallsService(ctx.db);
  const webhooks = new WebhooksService(ctx.db, config, ctx.logger);
  const events = new EventsService(ctx.db, ctx.logger);
  app.addHook('onClose', () => events.close());
  const files = new FilesService(ctx.db, ctx.storage, config, ctx.logger);
  await app.register(
    async (api) => {
      await api.register(usersRoutes, { users });
      await api.register(contactsRoutes, { contacts: new ContactsService(ctx.db) });
      await api.register(qualityRoutes, { quality: new QualityService(ctx.db, config.storage.urlSigningSecret) });
      const join = new JoinService(ctx.db, { livekit: ctx.livekit, config });
      await api.register(linksRoutes, { links: new LinksService(ctx.db, config), join });
      await api.register(joinRoutes, { join });
      await api.register(roomsRoutes, { rooms });
      await api.register(callsRoutes, { calls });
      await api.register(webhooksRoutes, { webhooks });
      await api.register(eventsRoutes, { events });
      await api.register(timelineRoutes, { timeline: new TimelineService(ctx.db) });
      await api.register(filesRoutes, { files });
      await api.register(adminRoutes, { admin: new AdminService(ctx.db, { livekitConfigured: ctx.livekit.configured }) });
      await api.register(webConfigRoutes, { web: new WebConfigService(config, ctx.livekit.wsUrl) });
      await api.register(fileDownloadRoutes, {
        downloads: new SignedDownloads(ctx.db, ctx.storage, files, config.storage.urlSigningSecret, verifyDownload),
      });
    },
    { prefix: '/api/v1' },
  );
  await app.register(webApp, { config, livekitUrl: ctx.livekit.wsUrl });
  return app;
}
