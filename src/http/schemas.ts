// Schemas shared by every domain's routes; they validate input and feed /openapi.json.
import { Type, type TSchema } from 'typebox';

export const Uuid = Type.String({ format: 'uuid', description: 'UUID' });
export const Timestamp = Type.String({ format: 'date-time' });
export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable machine-readable code, e.g. VALIDATION_ERROR, NOT_FOUND, ROOM_FULL' }),
      message: Type.String({ description: 'Human-readable; wording may change' }),
      details: Type.Optional(Type.Unknown({ description: 'Extra context, e.g. the failed validation rules' })),
    }),
  },
  { $id: 'ErrorResponse', description: 'The shape of every answer with a status of 400 or more' },
);

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ maxLength: 512, description: 'Opaque cursor from next_cursor' })),
};

// What each error status means on this API, as the OpenAPI document says it.
const ERROR_MEANING: Record<number, string> = {
  400: 'VALIDATION_ERROR: a parameter or the body does not match the schema',
  401: 'UNAUTHORIZED: the bearer token is missing, invalid or expired',
  403: 'FORBIDDEN (or ROOM_FULL, INVALID_PASSWORD, FILE_INFECTED): visible, but not allowed',
  404: 'NOT_FOUND: does not exist or is not visible to the caller',
  409: 'CONFLICT (or CALL_ENDED, FILE_NOT_READY): the current state does not allow it',
  410: 'LINK_GONE: the link or request expired, was used up or deactivated',
  413: 'PAYLOAD_TOO_LARGE: the body is over the limit',
  415: 'UNSUPPORTED_MEDIA_TYPE: wrong Content-Type',
  416: 'RANGE_NOT_SATISFIABLE: the Range lies outside the file',
  429: 'RATE_LIMITED: too many requests; retry after the Retry-After header (seconds)',
  500: 'INTERNAL: unexpected error; quote the x-request-id header',
  503: 'UPSTREAM_UNAVAILABLE: LiveKit, storage or the database is unavailable',
};

/** Error responses of a route (400, 429, 500 always; 401 for authenticated routes), for the OpenAPI document. */
export const errorResponses = (...statuses: number[]) => errorResponsesOf([400, 401, 429, 500, ...statuses]);

/** Error responses of a route that needs no token. */
export const publicErrorResponses = (...statuses: number[]) => errorResponsesOf([400, 429, 500, ...statuses]);

function errorResponsesOf(statuses: number[]) {
  return Object.fromEntries(
    [...new Set(statuses)].map((s) => [s, Type.Ref('ErrorResponse', { description: ERROR_MEANING[s] ?? 'Error' })]),
  );
}

const CheckResult = Type.Object(
  {
    status: Type.Union([Type.Literal('ok'), Type.Literal('down'), Type.Literal('not_configured')]),
    latency_ms: Type.Optional(Type.Integer({ description: 'How long the probe took' })),
    message: Type.Optional(Type.String({ description: 'Why it is down or not configured' })),
    required: Type.Optional(Type.Boolean({ description: 'true: when down, the instance is not ready (503)' })),
  },
  { additionalProperties: true },
);

/** GET /readiness: 200 when every required dependency answers, 503 otherwise. */
export const ReadinessReport = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('down')], {
    description: 'ok: all up; degraded: an optional dependency is down; down: a required one is (503)',
  }),
  checks: Type.Record(Type.String(), CheckResult, {
    description: 'One entry per dependency: database, storage, livekit, and redis and scanner when configured',
  }),
});

export const StatusOk = Type.Object({ status: Type.Literal('ok') });

export const bearer = [{ bearerAuth: [] }];
