// LiveKit webhooks: verified on the raw body, stored by event id in the same
// transaction that applies them (a duplicate is a no-op; a failed apply leaves no
// id behind, so LiveKit's retry applies it), applied by room name and session sid
// with the event's own times.
import crypto from 'node:crypto';
import { TokenVerifier, WebhookEvent } from 'livekit-server-sdk';
import type { Logger } from 'pino';
import { sourceName } from '../../adapters/livekit.ts';
import type { Config } from '../../config.ts';
import type { Database, Sql } from '../../db/database.ts';
import { unauthorized, validation } from '../../errors.ts';
import * as live from '../participants/live.ts';
import type * as rooms from '../rooms/rooms.repo.ts';
import { WebhookFailures } from './failures.ts';

// LiveKit's DisconnectReason values (livekit_models.proto) that we name.
const DISCONNECT_REASONS: Record<number, string> = {
  0: 'UNKNOWN_REASON',
  1: 'CLIENT_INITIATED',
  2: 'DUPLICATE_IDENTITY',
  3: 'SERVER_SHUTDOWN',
  4: 'PARTICIPANT_REMOVED',
  5: 'ROOM_DELETED',
  6: 'STATE_MISMATCH',
  7: 'JOIN_FAILURE',
  8: 'MIGRATION',
  9: 'SIGNAL_CLOSE',
  10: 'ROOM_CLOSED',
  14: 'CONNECTION_TIMEOUT',
  15: 'MEDIA_FAILURE',
};
// A session replaced by a reconnect, or lost, did not leave by choice.
const INVOLUNTARY = new Set(['DUPLICATE_IDENTITY', 'STATE_MISMATCH', 'JOIN_FAILURE', 'SIGNAL_CLOSE', 'CONNECTION_TIMEOUT', 'MEDIA_FAILURE']);

export type Outcome = 'applied' | 'duplicate' | 'unknown_room' | 'ignored';

const ms = (v: bigint | number | undefined) => Number(v ?? 0);

export class WebhooksService {
  private readonly verifier: TokenVerifier;
  /** Refused and failed deliveries, for the operators' link health view. */
  readonly failures: WebhookFailures;

  constructor(
    private readonly db: Database,
    config: Config,
    private readonly logger: Logger,
  ) {
    this.verifier = new TokenVerifier(config.livekit.apiKey, config.livekit.apiSecret);
    this.failures = new WebhookFailures(db, logger);
  }

  /** Checks the signature over the exact bytes received; 401 when it does not hold, 400 for a bad body. */
  async verify(rawBody: string, authorization: string | undefined): Promise<WebhookEvent> {
    if (!authorization) {
      this.failures.record('signature', { error: 'missing signature' });
      throw unauthorized('Missing webhook signature');
    }
    // LiveKit sends the bare JWT; tolerate a "Bearer " prefix added by a proxy.
    const token = authorization.replace(/^Bearer\s+/i, '').trim();
    try {
      // What the SDK's WebhookReceiver.receive does, with the body's SHA-256 taken by
      // node:crypto in place of a WebCrypto digest (a thread-pool job per event: 10% of
      // a webhook's CPU, docs/profiles.md): the JWT is verified (our key and secret, not
      // expired), then its sha256 claim over the exact body, before anything is parsed,
      // so only a signed body reaches the parser.
      const claims = await this.verifier.verify(token);
      if (claims.sha256 !== crypto.createHash('sha256').update(rawBody).digest('base64')) {
        throw new Error('sha256 checksum of body does not match');
      }
      return WebhookEvent.fromJson(JSON.parse(rawBody), { ignoreUnknownFields: true });
    } catch (err) {
      if (err instanceof SyntaxError || /^cannot decode/i.test((err as Error).message ?? '')) {
        this.failures.record('body', { error: (err as Error).message ?? 'not a LiveKit event' });
        throw validation('Webhook body is not a LiveKit event');
      }
      this.failures.record('signature', { error: (err as Error).message ?? 'invalid signature' });
      throw unauthorized('Invalid webhook signature');
    }
  }

  async handle(event: WebhookEvent): Promise<Outcome> {
    if (!event.id || !event.event) {
      this.failures.record('body', { event: event.event || null, eventId: event.id || null, error: 'no id or event name' });
      throw validation('Webhook event needs an id and an event name');
    }
    const roomName = event.room?.name ?? null;
    const outcome = await this.recordAndApply(event, roomName).catch((err: unknown) => {
      // Rolled back: LiveKit's retry applies it again; the operators see that it failed.
      this.failures.record('apply', { event: event.event, eventId: event.id, roomName, error: (err as Error).message ?? String(err) });
      throw err;
    });
    if (outcome === 'unknown_room') this.logger.info({ event: event.event, id: event.id, room: roomName }, 'webhook for an unknown room');
    return outcome;
  }

  private recordAndApply(event: WebhookEvent, roomName: string | null): Promise<Outcome> {
    return this.db.privileged(async (sql) => {
      // Recording the id, finding the room, the call's lock, reading the call under it
      // and noting the room's sid: one statement (migration 023), where they were four.
      const { rows } = await sql.query<rooms.LiveCall & { fresh: boolean }>(
        'SELECT fresh, call_id, room_id, room_name, status, ended_at FROM app.webhook_receive($1, $2, $3, $4)',
        [event.id, event.event, roomName, event.room?.sid ?? ''],
      );
      const { fresh, ...call } = rows[0]!;
      if (!fresh) return 'duplicate' as const;
      if (!roomName) return 'ignored' as const;
      if (!call.call_id) return 'unknown_room' as const;
      return this.apply(sql, call, event);
    });
  }

  private async apply(sql: Sql, call: rooms.LiveCall, event: WebhookEvent): Promise<Outcome> {
    const at = ms(event.createdAt) > 0 ? new Date(ms(event.createdAt) * 1000) : new Date();
    const p = event.participant;
    const session: live.SessionSignal | null =
      p && p.sid && p.identity
        ? {
            sid: p.sid,
            identity: p.identity,
            name: p.name || null,
            joinedAt: ms(p.joinedAtMs) > 0 ? new Date(ms(p.joinedAtMs)) : ms(p.joinedAt) > 0 ? new Date(ms(p.joinedAt) * 1000) : null,
          }
        : null;
    switch (event.event) {
      case 'room_started':
        return 'applied';
      case 'room_finished':
        await live.callEnded(sql, call, at, 'room_finished');
        return 'applied';
      case 'participant_joined':
        if (!session) return 'ignored';
        await live.sessionSeen(sql, call, session, at);
        return 'applied';
      case 'participant_left':
      case 'participant_connection_aborted': {
        if (!session) return 'ignored';
        const reason = DISCONNECT_REASONS[p!.disconnectReason] ?? `REASON_${p!.disconnectReason}`;
        const involuntary = event.event === 'participant_connection_aborted' || INVOLUNTARY.has(reason);
        await live.sessionEnded(sql, call, session, {
          status: involuntary ? 'disconnected' : 'left',
          specific: true,
          at,
          reason: event.event === 'participant_connection_aborted' ? 'CONNECTION_ABORTED' : reason,
        });
        return 'applied';
      }
      case 'track_published':
      case 'track_unpublished': {
        const track = event.track;
        if (!session || !track?.sid) return 'ignored';
        // The track's version is stamped when it was published (finer than the event's
        // whole seconds), and an unpublish event carries the same stamp: a publish takes
        // it, an unpublish takes the event's own time. The event time is floored to the
        // second, so it is never put before the publish stamp ("off" before "on").
        const micros = ms(track.version?.unixMicro);
        const publishedAt = micros > 0 ? new Date(micros / 1000) : null;
        const published = event.event === 'track_published';
        await live.trackChanged(sql, call, session, {
          trackSid: track.sid,
          source: sourceName(track.source),
          action: published ? 'published' : 'unpublished',
          at: published ? publishedAt ?? at : publishedAt && publishedAt > at ? publishedAt : at,
        });
        return 'applied';
      }
      default:
        return 'ignored';
    }
  }
}
