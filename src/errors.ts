// The error catalogue: every error the service answers with has a code from here.
// Domain code throws AppError through these factories; the HTTP error handler maps
// them to the contract's shape {"error": {code, message, details?}}.

export const ERROR_STATUS = {
  VALIDATION_ERROR: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  ROOM_FULL: 403,
  INVALID_PASSWORD: 403,
  FILE_INFECTED: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
  CONFLICT: 409,
  CALL_ENDED: 409,
  FILE_NOT_READY: 409,
  LINK_GONE: 410,
  PAYLOAD_TOO_LARGE: 413,
  URI_TOO_LONG: 414,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  HEADERS_TOO_LARGE: 431,
  INTERNAL: 500,
  UPSTREAM_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'AppError';
    this.status = ERROR_STATUS[code];
  }
}

export const validation = (message: string, details?: unknown) => new AppError('VALIDATION_ERROR', message, details);
export const unauthorized = (message = 'Missing or invalid credentials') => new AppError('UNAUTHORIZED', message);
export const forbidden = (message = 'Not allowed') => new AppError('FORBIDDEN', message);
export const notFound = (what = 'Resource') => new AppError('NOT_FOUND', `${what} not found`);
export const conflict = (message: string, details?: unknown) => new AppError('CONFLICT', message, details);
export const upstream = (what: string) => new AppError('UPSTREAM_UNAVAILABLE', `${what} is unavailable`);
export const payloadTooLarge = (limit: number) =>
  new AppError('PAYLOAD_TOO_LARGE', `Payload exceeds the limit of ${limit} bytes`, { limit_bytes: limit });
export const rateLimited = (retryAfterSeconds: number) =>
  new AppError('RATE_LIMITED', 'Too many requests', { retry_after_seconds: retryAfterSeconds }, {
    'retry-after': String(retryAfterSeconds),
  });

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;
