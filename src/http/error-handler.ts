// One place that turns every failure into the contract's error shape. Unknown
// errors become 500 INTERNAL with no internals in the body; the log keeps them.
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERROR_STATUS, type ErrorCode, isAppError } from '../errors.ts';
import { isConnectionError } from '../db/database.ts';
import { isTransientConflict } from '../db/retry.ts';
import { allowedMethods, type RouteEntry } from './route-methods.ts';

interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_ERROR',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'VALIDATION_ERROR',
  FST_ERR_CTP_INVALID_JSON_BODY: 'VALIDATION_ERROR',
  FST_ERR_INVALID_URL: 'VALIDATION_ERROR',
  FST_ERR_BAD_URL: 'VALIDATION_ERROR',
  FST_ERR_MAX_PARAM_LENGTH: 'URI_TOO_LONG',
  FST_ERR_ASYNC_CONSTRAINT: 'VALIDATION_ERROR',
  FST_REQ_FILE_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_PARTS_LIMIT: 'PAYLOAD_TOO_LARGE',
  FST_FILES_LIMIT: 'PAYLOAD_TOO_LARGE',
  FST_FIELDS_LIMIT: 'PAYLOAD_TOO_LARGE',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_PROTO_VIOLATION: 'VALIDATION_ERROR',
  FST_INVALID_JSON_FIELD_ERROR: 'VALIDATION_ERROR',
};

// Fastify's messages for these echo the whole path back; say what is wrong instead.
const FASTIFY_MESSAGES: Record<string, string> = {
  FST_ERR_BAD_URL: 'The URL path is not valid percent-encoding',
  FST_ERR_MAX_PARAM_LENGTH: 'A path segment is too long',
};

// Postgres errors caused by the input that slipped past schemas; anything else is ours.
const PG_CODES: Record<string, ErrorCode> = {
  '22P02': 'VALIDATION_ERROR', // invalid text representation
  '22001': 'VALIDATION_ERROR', // string too long
  '22003': 'VALIDATION_ERROR', // numeric out of range
  '22007': 'VALIDATION_ERROR', // invalid datetime
  '22008': 'VALIDATION_ERROR', // datetime out of range
  '22023': 'VALIDATION_ERROR', // invalid parameter value
  '22021': 'VALIDATION_ERROR', // bad byte sequence (NUL)
  '22P05': 'VALIDATION_ERROR', // untranslatable character (\u0000 in a JSON value)
  '23514': 'VALIDATION_ERROR', // check violation
  '23502': 'VALIDATION_ERROR', // not null
  '23505': 'CONFLICT', // unique
  '42501': 'NOT_FOUND', // RLS refused a write: the row is not the caller's to touch
};

export function toAppError(err: unknown): AppError | null {
  if (isAppError(err)) return err;
  const e = err as FastifyError & { code?: string; statusCode?: number; validation?: unknown[] };
  if (e?.validation) {
    return new AppError('VALIDATION_ERROR', e.message || 'Invalid request', e.validation);
  }
  if (e?.code && FASTIFY_CODES[e.code]) {
    const code = FASTIFY_CODES[e.code]!;
    return new AppError(code, code === 'PAYLOAD_TOO_LARGE' ? 'Payload too large' : (FASTIFY_MESSAGES[e.code] ?? e.message));
  }
  if (isConnectionError(err)) return new AppError('UPSTREAM_UNAVAILABLE', 'The database is unavailable');
  // A deadlock or serialization victim was rolled back whole: the same request may
  // simply be sent again (503 with Retry-After, not 500).
  if (isTransientConflict(err)) {
    return new AppError('UPSTREAM_UNAVAILABLE', 'The database cancelled a conflicting transaction; retry the request', undefined, {
      'retry-after': '1',
    });
  }
  if (e?.code && typeof e.code === 'string' && PG_CODES[e.code]) {
    const code = PG_CODES[e.code]!;
    const message =
      code === 'CONFLICT' ? 'The value conflicts with an existing record' :
      code === 'NOT_FOUND' ? 'Resource not found' : 'A value is not valid';
    return new AppError(code, message);
  }
  // Other framework 4xx errors (e.g. unsupported methods) keep their status.
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    const code = (Object.keys(ERROR_STATUS) as ErrorCode[]).find((k) => ERROR_STATUS[k] === e.statusCode);
    return new AppError(code ?? 'VALIDATION_ERROR', e.message || 'Bad request');
  }
  return null;
}

export function sendError(reply: FastifyReply, err: AppError): FastifyReply {
  const body: ErrorBody = { error: { code: err.code, message: err.message } };
  if (err.details !== undefined) body.error.details = err.details;
  if (err.headers) reply.headers(err.headers);
  return reply.code(err.status).type('application/json; charset=utf-8').send(body);
}

/**
 * The client went away before its request was complete (closed the connection
 * mid-body). The error that surfaces then is the request stream's ECONNRESET
 * "aborted", or whatever the body's consumer made of it; either way it is no fault of
 * ours or of the database, and no one is left to read an answer.
 */
export function clientAborted(request: FastifyRequest): boolean {
  return !request.raw.complete && request.raw.destroyed;
}

function handleError(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (clientAborted(request)) {
    const e = err as { code?: unknown; message?: unknown };
    request.log.info({ code: e?.code, reason: e?.message }, 'client aborted the request');
    return sendError(reply, new AppError('VALIDATION_ERROR', 'The request was aborted'));
  }
  const known = toAppError(err);
  if (known) {
    if (known.status >= 500) request.log.warn({ err }, known.message);
    else request.log.info({ code: known.code, msg: known.message }, 'request rejected');
    return sendError(reply, known);
  }
  request.log.error({ err }, 'unhandled error');
  return sendError(reply, new AppError('INTERNAL', 'Internal server error'));
}

/**
 * Fastify's `frameworkErrors`: errors of the router itself (bad percent-encoding,
 * an over-long path parameter) that happen before any hook runs, so the request id
 * header is set here.
 */
export function frameworkErrors(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  reply.header('x-request-id', request.id);
  handleError(err, request, reply);
}

function codeForStatus(status: number): ErrorCode {
  const known = (Object.keys(ERROR_STATUS) as ErrorCode[]).find((k) => ERROR_STATUS[k] === status);
  if (known) return known;
  if (status === 502 || status === 504) return 'UPSTREAM_UNAVAILABLE';
  return status >= 500 ? 'INTERNAL' : 'VALIDATION_ERROR';
}

function parseJson(payload: unknown): unknown {
  if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return undefined;
  try {
    return JSON.parse(payload.toString());
  } catch {
    return undefined;
  }
}

/** A short plain-text message from a plugin is kept; anything else becomes the status text. */
function messageOf(payload: unknown, status: number): string {
  const text = Buffer.isBuffer(payload) ? payload.toString('utf8') : payload;
  if (typeof text === 'string' && text.length > 0 && text.length <= 200 && !/[<>{}]/.test(text)) return text;
  return STATUS_CODES[status] ?? 'Error';
}

/**
 * The payload of an error response, in the contract's shape. A JSON object of another
 * shape (readiness's 503 report, say) keeps its members and gains `error`; anything
 * else is replaced.
 */
function contractPayload(payload: unknown, status: number): string | null {
  const json = parseJson(payload) as { error?: { code?: unknown; message?: unknown }; message?: unknown } | undefined;
  if (typeof json?.error?.code === 'string' && typeof json.error.message === 'string') return null;
  const code = codeForStatus(status);
  if (json && typeof json === 'object' && !Array.isArray(json)) {
    const message = typeof json.message === 'string' ? json.message : (STATUS_CODES[status] ?? 'Error');
    return JSON.stringify({ ...json, error: { code, message } });
  }
  return JSON.stringify({ error: { code, message: messageOf(payload, status) } });
}

/** `routes` is the app's route table (for 405 versus 404); it may still grow after this call. */
export function registerErrorHandling(app: FastifyInstance, routes: readonly RouteEntry[] = []): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => handleError(err, request, reply));
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    // The path exists with other methods: 405 with Allow (RFC 9110), not 404.
    const allow = allowedMethods(routes, path);
    if (allow.length > 0 && !allow.includes(request.method)) {
      reply.header('allow', allow.join(', '));
      return sendError(reply, new AppError('METHOD_NOT_ALLOWED', `Method ${request.method} is not allowed on ${path.slice(0, 200)}`));
    }
    return sendError(reply, new AppError('NOT_FOUND', `Route ${request.method} ${path.slice(0, 200)} not found`));
  });
  // The last line of the guarantee: a plugin that answers an error itself (the CORS
  // plugin's text/plain 400, a static file 404...) still answers in the contract's shape.
  // Callback-style so that a 2xx, the common case, passes through at no cost.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (reply.statusCode < 400) return done(null, payload);
    const body = contractPayload(payload, reply.statusCode);
    if (body === null) return done(null, payload);
    if (payload && typeof (payload as { destroy?: unknown }).destroy === 'function') {
      (payload as { destroy: () => void }).destroy();
    }
    reply.removeHeader('content-length');
    reply.type('application/json; charset=utf-8');
    done(null, body);
  });
}
