// Rooms: a LiveKit room and its call row, created together or not at all; read by
// those RLS lets see them; closed by their creator; joined through grantJoin.
import crypto from 'node:crypto';
import type { LiveKitAdapter, Role } from '../../adapters/livekit.ts';
import type { Config } from '../../config.ts';
import type { Database } from '../../db/database.ts';
import { AppError, forbidden, notFound, validation } from '../../errors.ts';
import { decodeCursor, page, UUID_RE } from '../../http/pagination.ts';
import { publish } from '../events/events.repo.ts';
import { seatMetadata } from '../participants/participants.repo.ts';
import { grantJoin, type JoinToken } from './join.ts';
import * as repo from './rooms.repo.ts';

// A room nobody joins closes after this long; a room everyone left lingers briefly
// so a reconnecting client finds it again.
const EMPTY_TIMEOUT_SECONDS = 600;
const DEPARTURE_TIMEOUT_SECONDS = 30;
const METADATA_MAX_BYTES = 16 * 1024;
const TOKEN_METADATA_MAX_BYTES = 4 * 1024;
const AURA_ID_RE = /^@[a-zA-Z0-9_-]+\.aura$/;

export interface CreateRoomInput {
  name: string;
  call_type?: 'one_to_one' | 'group' | 'conference' | 'broadcast';
  max_participants?: number;
  privacy?: 'private' | 'public';
  recording_enabled?: boolean;
  screen_sharing_enabled?: boolean;
  file_sharing_enabled?: boolean;
  metadata?: Record<string, unknown>;
  invitees?: string[];
}

/** A room as the API shows it: the row without its cursor key, created_at as an ISO string. */
export type RoomView = Omit<repo.RoomRow, 'created_key' | 'created_at'> & { created_at: string };

export const roomView = (r: repo.RoomRow): RoomView => ({
  call_id: r.call_id,
  room_id: r.room_id,
  room_name: r.room_name,
  name: r.name,
  created_by: r.created_by,
  call_type: r.call_type,
  status: r.status,
  privacy: r.privacy,
  max_participants: r.max_participants,
  participant_count: r.participant_count,
  recording_enabled: r.recording_enabled,
  screen_sharing_enabled: r.screen_sharing_enabled,
  file_sharing_enabled: r.file_sharing_enabled,
  metadata: r.metadata,
  created_at: r.created_at.toISOString(),
});

export interface TokenInput {
  display_name?: string;
  role?: Role;
  metadata?: Record<string, unknown> | string;
}

/** Invitees name users by id or AuraID; each must exist and must not have blocked the creator. */
async function resolveInvitees(db: Database, userId: string, invitees: string[]): Promise<string[]> {
  const ids = [...new Set(invitees.filter((i) => UUID_RE.test(i)).map((i) => i.toLowerCase()))];
  const auraIds = [...new Set(invitees.filter((i) => !UUID_RE.test(i)))];
  const bad = auraIds.filter((a) => !AURA_ID_RE.test(a));
  if (bad.length > 0) throw validation('invitees must be user ids or AuraIDs', { invalid: bad });
  if (ids.length + auraIds.length === 0) return [];
  const found = await db.asUser(userId, (sql) => repo.findInvitees(sql, ids, auraIds));
  const missing = [
    ...ids.filter((id) => !found.some((f) => f.user_id === id)),
    ...auraIds.filter((a) => !found.some((f) => f.aura_id === a)),
  ];
  if (missing.length > 0) throw new AppError('NOT_FOUND', 'Invitee not found', { missing });
  if (found.some((f) => f.blocked)) throw forbidden('An invitee does not accept invitations from you');
  return [...new Set(found.map((f) => f.user_id))].filter((id) => id !== userId);
}

function roomName(): string {
  // 16 random bytes: unguessable, URL-safe, matches the calls.room_name check.
  return `aura_${crypto.randomBytes(16).toString('base64url')}`;
}

export class RoomsService {
  constructor(
    private readonly db: Database,
    private readonly livekit: LiveKitAdapter,
    private readonly config: Config,
  ) {}

  async create(userId: string, input: CreateRoomInput): Promise<RoomView> {
    const metadata = input.metadata ?? {};
    if (Buffer.byteLength(JSON.stringify(metadata)) > METADATA_MAX_BYTES) {
      throw validation(`metadata must be at most ${METADATA_MAX_BYTES} bytes`);
    }
    const callType = input.call_type ?? 'group';
    const max = input.max_participants ?? (callType === 'one_to_one' ? 2 : 50);
    if (callType === 'one_to_one' && max > 2) throw validation('a one_to_one call has at most 2 participants');
    const invitees = await resolveInvitees(this.db, userId, input.invitees ?? []);

    const callId = crypto.randomUUID();
    const name = roomName();
    // LiveKit first, outside any transaction; the row follows, and if it cannot be
    // written the LiveKit room is removed again so the two never disagree.
    const sid = await this.livekit.createRoom({
      name,
      maxParticipants: max,
      emptyTimeoutSeconds: EMPTY_TIMEOUT_SECONDS,
      departureTimeoutSeconds: DEPARTURE_TIMEOUT_SECONDS,
      metadata: JSON.stringify({ call_id: callId, name: input.name }),
    });
    try {
      const row = await this.db.asUser(userId, async (sql) => {
        const created = await repo.insert(sql, {
          call_id: callId,
          room_id: sid,
          room_name: name,
          name: input.name,
          created_by: userId,
          call_type: callType,
          privacy: input.privacy ?? 'private',
          max_participants: max,
          recording_enabled: input.recording_enabled ?? false,
          screen_sharing_enabled: input.screen_sharing_enabled ?? true,
          file_sharing_enabled: input.file_sharing_enabled ?? true,
          metadata,
        });
        await repo.addInvitees(sql, callId, userId, invitees);
        await publish(sql, { callId, type: 'call.created', payload: { call_id: callId, room_name: name } });
        return created;
      });
      return roomView(row);
    } catch (err) {
      await this.livekit.deleteRoom(name).catch(() => undefined);
      throw err;
    }
  }

  async list(userId: string, q: { status?: string; limit?: number; cursor?: string }) {
    const limit = q.limit ?? 20;
    const after = decodeCursor(q.cursor, { c: 'timestamp', i: 'uuid' });
    const statuses = !q.status || q.status === 'all' ? null : [q.status as repo.CallStatus];
    const rows = await this.db.asUser(userId, (sql) =>
      repo.listForMember(sql, { userId, statuses, after: after && { created: after.c, id: after.i }, limit: limit + 1 }),
    );
    const { items, nextCursor } = page(rows, limit, (r) => ({ c: r.created_key, i: r.call_id }));
    return { rooms: items.map(roomView), next_cursor: nextCursor };
  }

  private async find(userId: string, key: string): Promise<repo.RoomRow> {
    const row = await this.db.asUser(userId, (sql) => repo.findByKey(sql, key, UUID_RE.test(key)));
    if (!row) throw notFound('Room');
    return row;
  }

  async get(userId: string, key: string): Promise<RoomView> {
    return roomView(await this.find(userId, key));
  }

  /** Closes the room for everyone; the call stays in history as ended. */
  async remove(userId: string, key: string): Promise<void> {
    const room = await this.find(userId, key);
    if (room.created_by !== userId) throw forbidden('Only the creator may close the room');
    // LiveKit first: if it is down the call stays open (503) rather than ending on
    // paper while people are still connected.
    await this.livekit.deleteRoom(room.room_name);
    await this.db.asUser(userId, async (sql) => {
      await repo.lockCall(sql, room.call_id);
      if (await repo.endCall(sql, room.call_id, null)) {
        await publish(sql, { callId: room.call_id, type: 'call.ended', payload: { call_id: room.call_id, reason: 'deleted' } });
      }
    });
  }

  async token(userId: string, key: string, input: TokenInput): Promise<JoinToken> {
    const metadata =
      input.metadata === undefined ? null : typeof input.metadata === 'string' ? input.metadata : JSON.stringify(input.metadata);
    if (metadata !== null && Buffer.byteLength(metadata) > TOKEN_METADATA_MAX_BYTES) {
      throw validation(`metadata must be at most ${TOKEN_METADATA_MAX_BYTES} bytes`);
    }
    // One transaction from lookup to seat in two round trips (token minting is a hot
    // path): the lookup with the caller's name and the call's shared lock, then its
    // state and the caller's seat, written back to back; then the seat's write (none
    // when it holds this grant already), with COMMIT behind it.
    return this.db.asUser(userId, async (sql) => {
      const isUuid = UUID_RE.test(key);
      const [room, locked] = await Promise.all([
        repo.findForGrant(sql, key, isUuid, userId),
        repo.joinStateByKey(sql, key, isUuid, userId, seatMetadata(metadata)),
      ]);
      if (!room) throw notFound('Room');
      const isCreator = room.created_by === userId;
      const role: Role = input.role ?? (isCreator ? 'host' : 'participant');
      if (!isCreator && (role === 'host' || role === 'moderator')) {
        throw forbidden('Only the room creator may join as host or moderator');
      }
      const displayName = input.display_name || (room.caller_name ?? 'Guest');
      return grantJoin(
        sql,
        { livekit: this.livekit, config: this.config },
        room.call_id,
        { userId, identity: userId, displayName, role, metadata },
        { locked, last: true },
      );
    });
  }

}
