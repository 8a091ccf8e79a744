// The typed client of the AuraLink call service: openapi-fetch over the types that
// openapi-typescript generated from the service's /openapi.json (./schema.ts).
//
//   const api = createAuraLinkClient({ baseUrl: '', getToken: () => session?.access_token });
//   const { rooms } = unwrap(await api.GET('/api/v1/rooms', { params: { query: { limit: 20 } } }));
import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema.ts';

export type { components, paths } from './schema.ts';

/** Every named schema of the document, e.g. `Schemas['ErrorResponse']`. */
export type Schemas = components['schemas'];
/** The contract's error body: `{"error":{"code","message"}}`. */
export type ErrorBody = Schemas['ErrorResponse'];
export type ApiPath = keyof paths;
type Method = 'get' | 'put' | 'post' | 'delete' | 'patch';
type Operation<P extends ApiPath, M extends Method> = M extends keyof paths[P] ? paths[P][M] : never;
type JsonOf<T> = T extends { content: { 'application/json': infer B } } ? B : never;
/** The JSON body of a 200/201 answer of `METHOD path`, e.g. `ResponseOf<'/api/v1/rooms', 'get'>`. */
export type ResponseOf<P extends ApiPath, M extends Method> =
  Operation<P, M> extends { responses: infer R }
    ? R extends { 200: infer A }
      ? JsonOf<A>
      : R extends { 201: infer B }
        ? JsonOf<B>
        : never
    : never;
/** The JSON request body of `METHOD path`. */
export type RequestBodyOf<P extends ApiPath, M extends Method> =
  Operation<P, M> extends { requestBody?: infer B } ? JsonOf<NonNullable<B>> : never;

// The main resources by name, as the API answers them.
export type User = ResponseOf<'/api/v1/users/me', 'get'>;
export type PublicProfile = ResponseOf<'/api/v1/users/lookup', 'get'>;
export type Room = ResponseOf<'/api/v1/rooms/{room_id}', 'get'>;
export type JoinToken = ResponseOf<'/api/v1/rooms/{room_id}/token', 'post'>;
export type Call = ResponseOf<'/api/v1/calls/{call_id}', 'get'>;
export type Participant = ResponseOf<'/api/v1/calls/{call_id}/participants', 'get'>['participants'][number];
export type QualityReport = ResponseOf<'/api/v1/calls/{call_id}/quality', 'get'>;
export type QualitySample = RequestBodyOf<'/api/v1/calls/{call_id}/quality', 'post'>['samples'][number];
export type FileInfo = ResponseOf<'/api/v1/files/{file_id}', 'get'>;
export type Link = ResponseOf<'/api/v1/links/{link_id}', 'get'>;
export type LinkPreview = ResponseOf<'/api/v1/join/{short_code}', 'get'>;
export type JoinRequest = ResponseOf<'/api/v1/rooms/{room_id}/join-requests/{request_id}/approve', 'post'>;
export type Contact = ResponseOf<'/api/v1/contacts/{contact_id}', 'get'>;
export type Readiness = ResponseOf<'/readiness', 'get'>;

export type AuraLinkClient = Client<paths>;

export type TokenSource = () => string | null | undefined | Promise<string | null | undefined>;

export interface AuraLinkClientOptions {
  /** The service's origin ('' or the page's origin when served by the service itself). */
  baseUrl: string;
  /** Called before every request; a token it gives is sent as `Authorization: Bearer`. */
  getToken?: TokenSource;
  /** Another fetch (tests, instrumentation). */
  fetch?: (input: Request) => Promise<Response>;
}

/** An answer with status >= 400, carrying the contract's code and the request id to quote. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | null,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export function createAuraLinkClient(opts: AuraLinkClientOptions): AuraLinkClient {
  const client = createClient<paths>({
    // openapi-fetch needs an absolute base for `new Request`; '' means this page's origin.
    baseUrl: opts.baseUrl || (typeof location === 'undefined' ? '' : location.origin),
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
  if (opts.getToken) client.use(bearerMiddleware(opts.getToken));
  return client;
}

export function bearerMiddleware(getToken: TokenSource): Middleware {
  return {
    async onRequest({ request }) {
      const token = await getToken();
      // A header the caller set for this one request wins over the session's token.
      if (token && !request.headers.has('authorization')) request.headers.set('authorization', `Bearer ${token}`);
      return request;
    },
  };
}

/** The shape openapi-fetch resolves to. */
export interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/**
 * The data of a successful answer, or an ApiError built from the contract's error body.
 * A 204 (no body) gives `undefined`.
 */
export function unwrap<T>(result: FetchResult<T>): T {
  const { response } = result;
  if (response.ok) return result.data as T;
  throw toApiError(response, result.error);
}

export function toApiError(response: Response, body: unknown): ApiError {
  const requestId = response.headers.get('x-request-id');
  const err = isErrorBody(body) ? body.error : null;
  if (err) return new ApiError(response.status, err.code, err.message, requestId, err.details);
  const text = typeof body === 'string' && body.trim() ? body.trim().slice(0, 200) : response.statusText;
  return new ApiError(response.status, `HTTP_${response.status}`, text || `HTTP ${response.status}`, requestId);
}

function isErrorBody(body: unknown): body is ErrorBody {
  if (!body || typeof body !== 'object') return false;
  const e = (body as { error?: unknown }).error;
  return (
    !!e &&
    typeof e === 'object' &&
    typeof (e as { code?: unknown }).code === 'string' &&
    typeof (e as { message?: unknown }).message === 'string'
  );
}
