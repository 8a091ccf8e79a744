// The parts of the OpenAPI document that route schemas cannot carry without changing
// what Fastify does at run time. A multipart upload is read as a stream, an event
// stream is written by hand, a download is bytes: a `body` or `response` schema for
// them would make Fastify validate or serialize what it must not touch. docOnly()
// shows them in /openapi.json only; finishDocument() applies the marks routes leave.
import type { SwaggerTransform } from '@fastify/swagger';
import type { TSchema } from 'typebox';

type MediaTypes = Record<string, { schema: TSchema | Record<string, unknown> }>;

export interface DocOnly {
  /** The request body as documented, by media type (e.g. multipart/form-data). */
  body?: MediaTypes;
  /** Responses as documented, by status: a description and their media types. */
  responses?: Record<number, { description: string; content?: MediaTypes }>;
}

/** Route `config` that adds documentation-only parts to the route's operation. */
export function docOnly(doc: DocOnly): { swaggerTransform: SwaggerTransform } {
  return {
    swaggerTransform: ({ schema, url }) => {
      const out: Record<string, unknown> = { ...schema };
      if (doc.body) out.body = { content: doc.body };
      if (doc.responses) {
        const documented = Object.fromEntries(
          Object.entries(doc.responses).map(([status, r]) => [
            status,
            r.content ? { description: r.description, content: r.content } : { description: r.description, type: 'null' },
          ]),
        );
        out.response = { ...(schema?.response as object | undefined), ...documented };
      }
      return { schema: out, url };
    },
  };
}

/**
 * Route schema mark: the body may be left out (every field is optional and the
 * route treats a missing body as {}). @fastify/swagger always writes
 * `requestBody.required: true`; finishDocument() turns it off for these.
 */
export const OPTIONAL_BODY = { 'x-optional-body': true } as const;

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;
const STATUS_TEXT: Record<string, string> = { 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content' };

interface Operation {
  requestBody?: { required?: boolean };
  responses?: Record<string, { description?: string }>;
  'x-optional-body'?: boolean;
}

/** The transformObject of @fastify/swagger: last touches on the whole document. */
export function finishDocument<T extends object>(doc: T): T {
  const paths = (doc as { paths?: Record<string, Record<string, unknown>> }).paths ?? {};
  for (const item of Object.values(paths)) {
    for (const method of METHODS) {
      const op = item[method] as Operation | undefined;
      if (!op) continue;
      // @fastify/swagger names every response without a description "Default Response".
      for (const [status, response] of Object.entries(op.responses ?? {})) {
        if (response.description === 'Default Response') response.description = STATUS_TEXT[status] ?? 'Response';
      }
      if (!op['x-optional-body']) continue;
      delete op['x-optional-body'];
      if (op.requestBody) op.requestBody.required = false;
    }
  }
  return doc;
}

/** The document's tags, in the order a reader meets them. */
export const OPENAPI_TAGS = [
  { name: 'health', description: 'Liveness and readiness for load balancers and orchestrators (no token)' },
  { name: 'users', description: 'The signed-in user\'s profile and AuraID lookup' },
  { name: 'rooms', description: 'Rooms (a room and its call are one record) and LiveKit join tokens' },
  { name: 'calls', description: 'Call history, participants and their media state' },
  { name: 'quality', description: 'Call quality samples from clients, and their summary' },
  { name: 'files', description: 'Files shared in a call: upload, list, scan state, download' },
  { name: 'links', description: 'Invite links, the public join flow and the waiting room' },
  { name: 'contacts', description: 'The signed-in user\'s contacts' },
  { name: 'events', description: 'Live events of the calls the user may see (server-sent events)' },
  { name: 'webhooks', description: 'LiveKit webhook receiver (signed by LiveKit, no user token)' },
  { name: 'web', description: 'Settings for browser clients and the development sign-in' },
  { name: 'admin', description: 'Read-only operator API (404 to everyone who is not an operator)' },
];
