// The one typed client of the app, same origin as the page. The token comes from
// the session at request time and is only ever sent in the Authorization header.
import { ApiError, createAuraLinkClient, type ResponseOf, unwrap } from '@auralink/client';
import { currentToken } from '../auth/token.ts';

export const api = createAuraLinkClient({ baseUrl: '', getToken: currentToken });
export { ApiError, unwrap };

export type Room = ResponseOf<'/api/v1/rooms/{room_id}', 'get'>;
export type CallSummary = ResponseOf<'/api/v1/calls/{call_id}', 'get'>;
export type Participant = ResponseOf<'/api/v1/calls/{call_id}/participants', 'get'>['participants'][number];
export type FileInfo = ResponseOf<'/api/v1/files/{file_id}', 'get'>;
export type Link = ResponseOf<'/api/v1/links/{link_id}', 'get'>;
export type JoinRequest = ResponseOf<'/api/v1/rooms/{room_id}/join-requests', 'get'>['join_requests'][number];
export type TokenPayload = ResponseOf<'/api/v1/rooms/{room_id}/token', 'post'>;
export type Me = ResponseOf<'/api/v1/users/me', 'get'>;
export type ClientConfig = ResponseOf<'/api/v1/client-config', 'get'>;

/** Seconds to wait, from Retry-After or the error's details, when the server said so. */
export function retryAfterSeconds(err: unknown): number | null {
  if (!(err instanceof ApiError)) return null;
  const d = err.details as { retry_after_seconds?: unknown; retry_after?: unknown } | undefined;
  const v = d?.retry_after_seconds ?? d?.retry_after;
  return typeof v === 'number' && v > 0 ? Math.ceil(v) : null;
}

/** A sentence for people, from anything thrown by an API call. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    const id = err.requestId ? ` (request ${err.requestId})` : '';
    if (err.status === 0 || err.code === 'HTTP_0') return `The service cannot be reached${id}.`;
    return `${err.message}${id}`;
  }
  if (err instanceof TypeError) return 'The service cannot be reached. Check your connection and try again.';
  if (err instanceof Error) return err.message;
  return 'Something went wrong.';
}

export type CallListItem = ResponseOf<'/api/v1/calls', 'get'>['calls'][number];
export type SessionTimeline = ResponseOf<'/api/v1/calls/{call_id}/timeline', 'get'>['participants'][number];
export type ParticipantQuality = ResponseOf<'/api/v1/calls/{call_id}/quality/participants', 'get'>['participants'][number];
export type AdminCallDetail = ResponseOf<'/api/v1/admin/calls/{call_id}', 'get'>;
export type AdminCallItem = ResponseOf<'/api/v1/admin/calls', 'get'>['calls'][number];
export type AdminUsage = ResponseOf<'/api/v1/admin/usage', 'get'>;
export type AdminLiveRoom = ResponseOf<'/api/v1/admin/rooms/live', 'get'>['rooms'][number];
export type AdminWorst = ResponseOf<'/api/v1/admin/quality/worst', 'get'>;
