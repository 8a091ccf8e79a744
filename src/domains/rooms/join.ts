// Handing out a seat in a call: the one function every way of joining goes through
// (the room token endpoint for members, invite links for guests), so the checks
// for ended calls and full rooms live in one place.
import type { LiveKitAdapter, Role } from '../../adapters/livekit.ts';
import type { Config } from '../../config.ts';
import { lastStatement, type Sql } from '../../db/database.ts';
import { AppError, notFound } from '../../errors.ts';
import * as participants from '../participants/participants.repo.ts';
import { signQualityToken } from '../quality/quality-token.ts';
import { joinState, lockCallShared, type JoinState } from './rooms.repo.ts';

export interface Joiner {
  /** The signed-in user, or null for a guest. */
  userId: string | null;
  /** LiveKit identity: the user id for users; a unique, stable id for a guest. */
  identity: string;
  displayName: string;
  role: Role;
  /** Participant metadata handed to LiveKit as is (at most a few KiB), or null. */
  metadata: string | null;
}

/** The contract's token payload (POST /rooms/{room_id}/token, POST /join/{short_code}). */
export interface JoinToken {
  token: string;
  ws_url: string | null;
  call_id: string;
  room_name: string;
  identity: string;
  display_name: string;
  participant_id: string;
  role: Role;
  expires_at: string;
  /** Lets the holder report quality for this seat without a user (guests): see quality-token.ts. */
  quality_token: string;
}

export interface JoinDeps {
  livekit: LiveKitAdapter;
  config: Config;
}

/**
 * grantJoin(sql, deps, callId, joiner) -> JoinToken
 *
 * Runs inside the caller's transaction `sql`: db.asUser(userId, ...) for a member
 * (RLS then also requires that the user may see the call), db.privileged(...) for a
 * guest admitted by a link. Access (who may join, which role) is the caller's
 * decision; this checks the call's state under the shared side of the per-call
 * lock, so grants for one call run in parallel (the seat upsert is race-free by
 * itself) while ending the call or applying its webhooks waits for them:
 *   - 404 NOT_FOUND when the call is not visible in `sql`'s scope,
 *   - 409 CALL_ENDED when the call has ended,
 *   - 403 ROOM_FULL when max_participants other identities are connected now
 *     (LiveKit's own max_participants refuses the surplus connection in a race),
 * then reuses the identity's untaken seat or creates one (status 'waiting') and
 * mints a LiveKit token with the role's grants and config.livekit.tokenTtlSeconds.
 * A seat that already holds what the grant would write (same user, name, role and
 * metadata: a client fetching its token again) is handed out as it is, without a write.
 * No network call happens here: minting is local.
 */
export async function grantJoin(
  sql: Sql,
  deps: JoinDeps,
  callId: string,
  joiner: Joiner,
  /**
   * `locked`: the caller took the lock and read the state already (rooms.service, in the
   * round trip of its lookup; with the joiner's identity and seatMetadata(joiner.metadata)).
   * `last`: the seat is the transaction's last statement, so COMMIT travels with it.
   */
  opts: { locked?: JoinState | null; last?: boolean } = {},
): Promise<JoinToken> {
  // Read after the lock is held (a fresh snapshot): the call's state and its seats. The
  // two statements are written together; PostgreSQL runs them in this order.
  const call =
    opts.locked !== undefined
      ? opts.locked
      : (
          await Promise.all([
            lockCallShared(sql, callId),
            joinState(sql, callId, joiner.identity, participants.seatMetadata(joiner.metadata)),
          ])
        )[1];
  if (!call) throw notFound('Room');
  if (call.status === 'ended' || call.status === 'failed') {
    throw new AppError('CALL_ENDED', 'The call has ended');
  }
  if (call.full) {
    throw new AppError('ROOM_FULL', 'The room is full', { max_participants: call.max_participants });
  }
  // The seat was read under the shared side of the call's lock, which every change of a
  // seat's status or sid waits for (webhooks, ending the call, reconciliation): it is
  // still untaken when this transaction commits.
  const unchanged =
    call.seat_id !== null &&
    call.seat_user_id === joiner.userId &&
    call.seat_display_name === joiner.displayName &&
    call.seat_role === joiner.role &&
    call.seat_same_metadata === true;
  let participantId: string;
  if (unchanged) {
    participantId = call.seat_id!;
  } else {
    if (opts.last) lastStatement(sql);
    const seat = await participants.upsertWaiting(sql, {
      callId,
      userId: joiner.userId,
      identity: joiner.identity,
      displayName: joiner.displayName,
      role: joiner.role,
      metadata: joiner.metadata,
    });
    participantId = seat.participant_id;
  }
  const ttl = deps.config.livekit.tokenTtlSeconds;
  const token = await deps.livekit.mintToken({
    room: call.room_name,
    identity: joiner.identity,
    name: joiner.displayName,
    metadata: joiner.metadata,
    role: joiner.role,
    screenShare: call.screen_sharing_enabled,
    ttlSeconds: ttl,
  });
  return {
    token,
    ws_url: deps.livekit.wsUrl,
    call_id: callId,
    room_name: call.room_name,
    identity: joiner.identity,
    display_name: joiner.displayName,
    participant_id: participantId,
    role: joiner.role,
    // Slightly early rather than late: the token's own exp is set when it is signed.
    expires_at: new Date(Date.now() + ttl * 1000 - 1000).toISOString(),
    quality_token: signQualityToken(deps.config.storage.urlSigningSecret, callId, participantId),
  };
}
