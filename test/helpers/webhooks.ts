// Builds LiveKit webhook deliveries the way LiveKit signs them: the body is the
// event's JSON, the Authorization header a JWT signed with the API secret whose
// sha256 claim is the base64 SHA-256 of the exact body.
import crypto from 'node:crypto';
import { AccessToken, WebhookEvent } from 'livekit-server-sdk';
import type { TestApp } from './app.ts';

export async function sign(body: string, key: string, secret: string, ttlSeconds = 300): Promise<string> {
  const at = new AccessToken(key, secret, { ttl: ttlSeconds });
  at.sha256 = crypto.createHash('sha256').update(body).digest('base64');
  return at.toJwt();
}

let seq = 0;
export const uid = (prefix: string) => `${prefix}_${crypto.randomBytes(6).toString('hex')}${++seq}`;

export interface EventSpec {
  event: string;
  id?: string;
  createdAt: number; // unix seconds
  room: { name: string; sid?: string };
  participant?: { sid: string; identity: string; name?: string; joinedAtMs?: number; disconnectReason?: number };
  track?: { sid: string; source: number; unixMicro?: number };
}

export function eventJson(e: EventSpec): string {
  const ev = new WebhookEvent({
    id: e.id ?? uid('EV'),
    createdAt: BigInt(e.createdAt),
    room: { sid: e.room.sid ?? '', name: e.room.name },
    ...(e.participant
      ? {
          participant: {
            sid: e.participant.sid,
            identity: e.participant.identity,
            name: e.participant.name ?? '',
            joinedAt: BigInt(Math.floor((e.participant.joinedAtMs ?? 0) / 1000)),
            joinedAtMs: BigInt(e.participant.joinedAtMs ?? 0),
            disconnectReason: e.participant.disconnectReason ?? 0,
          },
        }
      : {}),
    ...(e.track
      ? {
          track: {
            sid: e.track.sid,
            source: e.track.source,
            ...(e.track.unixMicro ? { version: { unixMicro: BigInt(e.track.unixMicro), ticks: 0 } } : {}),
          },
        }
      : {}),
  });
  // The SDK's subclass initialises `event` after the constructor copies fields in.
  ev.event = e.event as WebhookEvent['event'];
  return ev.toJsonString();
}

export async function deliver(
  t: TestApp,
  body: string,
  opts: { authorization?: string | null; contentType?: string } = {},
) {
  const authorization =
    opts.authorization === undefined
      ? await sign(body, t.config.livekit.apiKey, t.config.livekit.apiSecret)
      : opts.authorization;
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/webhooks/livekit',
    headers: {
      'content-type': opts.contentType ?? 'application/webhook+json',
      ...(authorization !== null ? { authorization } : {}),
    },
    payload: body,
  });
  return { status: res.statusCode, body: res.json() as { status?: string; error?: { code: string } } };
}
