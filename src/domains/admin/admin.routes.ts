// The operator API, /api/v1/admin/... Every route answers 404, exactly as an unknown
// route does, to anyone who is not an operator: anonymous callers, users, and tokens
// that failed verification (forged, expired), whose auth error is replaced here so
// that not even a 401 tells them the route exists. Operator status comes only from a
// verified token (http/auth.ts).
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Static } from 'typebox';
import { AppError } from '../../errors.ts';
import { bearer, errorResponses, Nullable } from '../../http/schemas.ts';
import { Type } from 'typebox';
import { ParticipantQuality } from '../calls/timeline.routes.ts';
import * as s from './admin.schemas.ts';
import type { AdminService } from './admin.service.ts';

const hidden = (request: FastifyRequest) =>
  new AppError('NOT_FOUND', `Route ${request.method} ${request.url.split('?')[0]!.slice(0, 200)} not found`);

/** The operator's id; throws the route-not-found 404 for everyone else. */
function operatorId(request: FastifyRequest): string {
  if (!request.user?.operator) throw hidden(request);
  return request.user.id;
}

export const adminRoutes: FastifyPluginAsync<{ admin: AdminService }> = async (app, { admin }) => {
  // Runs after the global authentication hook (this plugin's hooks come later), before
  // validation: a non-operator's bad input is a 404 as well, never a 400 or a 401.
  app.addHook('onRequest', async (request) => {
    if (!request.user?.operator) {
      request.authError = null;
      throw hidden(request);
    }
  });
  const tags = ['admin'];
  const errors = (...more: number[]) => errorResponses(404, ...more);

  app.get<{ Querystring: Static<typeof s.CallsQuery> }>(
    '/admin/calls',
    {
      schema: {
        tags,
        summary: 'All calls, newest first, with filters and search (operators)',
        security: bearer,
        querystring: s.CallsQuery,
        response: { 200: Type.Object({ calls: Type.Array(s.AdminCall), next_cursor: Nullable(Type.String()) }), ...errors() },
      },
    },
    async (request) => admin.listCalls(operatorId(request), request.query),
  );

  app.get<{ Params: Static<typeof s.CallParams> }>(
    '/admin/calls/:call_id',
    {
      schema: {
        tags,
        summary: "Any call's detail: participants, timeline, quality, files, links (operators)",
        security: bearer,
        params: s.CallParams,
        response: { 200: s.CallDetail, ...errors() },
      },
    },
    async (request) => admin.getCall(operatorId(request), request.params.call_id),
  );

  app.get<{ Params: Static<typeof s.CallParams> }>(
    '/admin/calls/:call_id/quality/participants',
    {
      schema: {
        tags,
        summary: "Each participant's quality over time in any call (operators)",
        description: 'The shape of GET /api/v1/calls/{call_id}/quality/participants, for any call.',
        security: bearer,
        params: s.CallParams,
        response: { 200: ParticipantQuality, ...errors() },
      },
    },
    async (request) => admin.callQuality(operatorId(request), request.params.call_id),
  );

  app.get<{ Querystring: Static<typeof s.LiveQuery> }>(
    '/admin/rooms/live',
    {
      schema: {
        tags,
        summary: 'Rooms open right now with the participants connected (operators)',
        security: bearer,
        querystring: s.LiveQuery,
        response: { 200: s.LiveRooms, ...errors() },
      },
    },
    async (request) => admin.liveRooms(operatorId(request), request.query.limit ?? 100, request.query.participants),
  );

  app.get<{ Querystring: Static<typeof s.UsageQuery> }>(
    '/admin/usage',
    {
      schema: {
        tags,
        summary: 'Participant-minutes, calls and peak concurrency per UTC day; for one room or user with room/user_id (operators)',
        security: bearer,
        querystring: s.UsageQuery,
        response: { 200: s.Usage, ...errors() },
      },
    },
    async (request) => admin.usage(operatorId(request), request.query),
  );

  app.get<{ Querystring: Static<typeof s.TopQuery> }>(
    '/admin/usage/rooms',
    {
      schema: {
        tags,
        summary: 'Rooms with the most participant-minutes in a range (operators)',
        security: bearer,
        querystring: s.TopQuery,
        response: { 200: s.UsageRooms, ...errors() },
      },
    },
    async (request) => admin.usageRooms(operatorId(request), request.query),
  );

  app.get<{ Querystring: Static<typeof s.TopQuery> }>(
    '/admin/usage/users',
    {
      schema: {
        tags,
        summary: 'Users with the most participant-minutes in a range (operators)',
        security: bearer,
        querystring: s.TopQuery,
        response: { 200: s.UsageUsers, ...errors() },
      },
    },
    async (request) => admin.usageUsers(operatorId(request), request.query),
  );

  app.get<{ Querystring: Static<typeof s.WorstQuery> }>(
    '/admin/quality/worst',
    {
      schema: {
        tags,
        summary: 'Calls or participants with the worst MOS, packet loss or round-trip time in a range (operators)',
        security: bearer,
        querystring: s.WorstQuery,
        response: { 200: s.Worst, ...errors() },
      },
    },
    async (request) => admin.worstQuality(operatorId(request), request.query),
  );

  app.get(
    '/admin/livekit',
    {
      schema: {
        tags,
        summary: 'Health of the LiveKit link: webhooks received and failed, reconciliation runs and repairs (operators)',
        security: bearer,
        response: { 200: s.LivekitHealth, ...errors() },
      },
    },
    async (request) => admin.livekitHealth(operatorId(request)),
  );
};
