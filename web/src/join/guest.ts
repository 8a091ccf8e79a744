// What a guest is told, for each way joining can fail. Pure, so it is tested.
import { ApiError, retryAfterSeconds } from '../api/api.ts';

export type JoinFailure =
  | { kind: 'wrong_password'; message: string }
  | { kind: 'too_many_attempts'; message: string; retryAfter: number | null }
  | { kind: 'gone'; message: string }
  | { kind: 'not_found'; message: string }
  | { kind: 'other'; error: unknown };

export function classifyJoinError(err: unknown): JoinFailure {
  if (!(err instanceof ApiError)) return { kind: 'other', error: err };
  if (err.code === 'INVALID_PASSWORD') {
    return { kind: 'wrong_password', message: err.message === 'Wrong password' ? 'Wrong password. Check it and try again.' : err.message };
  }
  if (err.status === 429) {
    const wait = retryAfterSeconds(err);
    return {
      kind: 'too_many_attempts',
      retryAfter: wait,
      message: wait ? `Too many attempts. Try again in ${formatWait(wait)}.` : 'Too many attempts. Try again later.',
    };
  }
  if (err.status === 410) {
    const reason = (err.details as { reason?: string } | undefined)?.reason;
    if (reason === 'request_expired') return { kind: 'gone', message: 'Your request to join expired before the host answered.' };
    return { kind: 'gone', message: 'This invite link has expired, been used up or been switched off. Ask the host for a new one.' };
  }
  if (err.status === 404) return { kind: 'not_found', message: 'This invite link does not exist. Check the address.' };
  return { kind: 'other', error: err };
}

export function formatWait(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return s ? `${m} min ${s} s` : `${m} min`;
}
