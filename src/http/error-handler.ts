// One place that turns every failure into the contract's error shape. Unknown
// errors become 500 INTERNAL with no internals in the body; the log keeps them.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERROR_STATUS, type ErrorCode, isAppError } from '../errors.ts';
import { isConnectionError } from '../db/database.ts';

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
  FST_ERR_ASYNC_CONSTRAINT: 'VALIDATION_ERROR',
  FST_REQ_FILE_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_PARTS_LIMIT: 'PAYLOAD_TOO_LARGE',
  FST_FILES_LIMIT: 'PAYLOAD_TOO_LARGE',
  FST_FIELDS_LIMIT: 'PAYLOAD_TOO_LARGE',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_PROTO_VIOLATION: 'VALIDATION_ERROR',
  FST_INVALID_JSON_FIELD_ERROR: 'VALIDATION_ERROR',
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
    return new AppError(code, code === 'PAYLOAD_TOO_LARGE' ? 'Payload too large' : e.message);
  }
  if (isConnectionError(err)) return new AppError('UPSTREAM_UNAVAILABLE', 'The database is unavailable');
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

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const known = toAppError(err);
    if (known) {
      if (known.status >= 500) request.log.warn({ err }, known.message);
      else request.log.info({ code: known.code, msg: known.message }, 'request rejected');
      return sendError(reply, known);
    }
    request.log.error({ err }, 'unhandled error');
    return sendError(reply, new AppError('INTERNAL', 'Internal server error'));
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new AppError('NOT_FOUND', `Route ${request.method} ${request.url.split("?")[0]!.slice(0, 200)} not found`)),
  );
}
