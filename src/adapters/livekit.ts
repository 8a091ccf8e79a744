// LiveKit behind a small interface. The real implementation talks to LiveKit's
// RoomService with livekit-server-sdk; when LIVEKIT_URL is unset (the embedded
// default) rooms are records only and tokens are still minted with the configured
// key, since LiveKit creates a room on first join.
import { AccessToken, RoomServiceClient, ServerError, TrackSource, type VideoGrant } from 'livekit-server-sdk';
import type { Config } from '../config.ts';
import { AppError, upstream } from '../errors.ts';

export type Role = 'host' | 'moderator' | 'participant' | 'viewer';

export interface RoomSpec {
  name: string;
  maxParticipants: number;
  emptyTimeoutSeconds: number;
  departureTimeoutSeconds: number;
  metadata: string;
}

export interface LiveRoom {
  sid: string;
  name: string;
  numParticipants: number;
}

export interface LiveTrack {
  sid: string;
  source: MediaSource;
}

export interface LiveParticipant {
  sid: string;
  identity: string;
  name: string;
  metadata: string;
  joinedAtMs: number;
  tracks: LiveTrack[];
}

export type MediaSource = 'camera' | 'microphone' | 'screen_share' | 'screen_share_audio' | 'unknown';

export interface TokenRequest {
  room: string;
  identity: string;
  name: string;
  metadata: string | null;
  role: Role;
  /** When false, the token may publish camera and microphone but not the screen. */
  screenShare: boolean;
  ttlSeconds: number;
}

export interface LiveKitAdapter {
  readonly configured: boolean;
  /** What clients connect to (ws:// or wss://); null when LiveKit is not configured. */
  readonly wsUrl: string | null;
  /** Returns the room sid, or null when LiveKit is not configured. */
  createRoom(spec: RoomSpec): Promise<string | null>;
  /** Deleting a room that does not exist is not an error. */
  deleteRoom(name: string): Promise<void>;
  listRooms(names?: string[]): Promise<LiveRoom[]>;
  listParticipants(room: string): Promise<LiveParticipant[]>;
  removeParticipant(room: string, identity: string): Promise<void>;
  mintToken(req: TokenRequest): Promise<string>;
  /** Readiness: throws when LiveKit does not answer (or is refused). */
  probe(): Promise<void>;
}

export function sourceName(source: TrackSource | number | undefined): MediaSource {
  switch (source) {
    case TrackSource.CAMERA:
      return 'camera';
    case TrackSource.MICROPHONE:
      return 'microphone';
    case TrackSource.SCREEN_SHARE:
      return 'screen_share';
    case TrackSource.SCREEN_SHARE_AUDIO:
      return 'screen_share_audio';
    default:
      return 'unknown';
  }
}

/** The grants each role gets; viewers subscribe and send data but never publish media. */
export function grantFor(req: Pick<TokenRequest, 'room' | 'role' | 'screenShare'>): VideoGrant {
  const admin = req.role === 'host' || req.role === 'moderator';
  const publish = req.role !== 'viewer';
  const grant: VideoGrant = {
    room: req.room,
    roomJoin: true,
    roomAdmin: admin,
    canPublish: publish,
    canSubscribe: true,
    canPublishData: true,
  };
  if (publish && !req.screenShare) grant.canPublishSources = [TrackSource.CAMERA, TrackSource.MICROPHONE];
  return grant;
}

async function mint(config: Config, req: TokenRequest): Promise<string> {
  const at = new AccessToken(config.livekit.apiKey, config.livekit.apiSecret, {
    identity: req.identity,
    name: req.name,
    ttl: req.ttlSeconds,
    ...(req.metadata !== null ? { metadata: req.metadata } : {}),
  });
  at.addGrant(grantFor(req));
  return at.toJwt();
}

function toWs(url: string): string {
  return url.replace(/^http(s?):/, 'ws$1:');
}

function toHttp(url: string): string {
  return url.replace(/^ws(s?):/, 'http$1:');
}

function isNotFound(err: unknown): boolean {
  return err instanceof ServerError && (err.status === 404 || err.code === 'not_found');
}

/**
 * Any failure to reach LiveKit, or LiveKit refusing our credentials, is 503: the
 * caller did nothing wrong. Errors we raise ourselves pass through unchanged.
 */
export function toUpstream(err: unknown): AppError {
  if (err instanceof AppError) return err;
  return upstream('LiveKit');
}

export function createLiveKit(config: Config): LiveKitAdapter {
  if (!config.livekit.url) return notConfigured(config);
  const client = new RoomServiceClient(toHttp(config.livekit.url), config.livekit.apiKey, config.livekit.apiSecret, {
    requestTimeout: 5,
    failover: false,
  });
  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw Object.assign(toUpstream(err), { cause: err });
    }
  };
  return {
    configured: true,
    wsUrl: toWs(config.livekit.url),
    async createRoom(spec) {
      const room = await call(() =>
        client.createRoom({
          name: spec.name,
          maxParticipants: spec.maxParticipants,
          emptyTimeout: spec.emptyTimeoutSeconds,
          departureTimeout: spec.departureTimeoutSeconds,
          metadata: spec.metadata,
        }),
      );
      return room.sid || null;
    },
    async deleteRoom(name) {
      try {
        await client.deleteRoom(name);
      } catch (err) {
        if (isNotFound(err)) return;
        throw Object.assign(toUpstream(err), { cause: err });
      }
    },
    async listRooms(names) {
      const rooms = await call(() => client.listRooms(names));
      return rooms.map((r) => ({ sid: r.sid, name: r.name, numParticipants: r.numParticipants }));
    },
    async listParticipants(room) {
      let list;
      try {
        list = await client.listParticipants(room);
      } catch (err) {
        if (isNotFound(err)) return [];
        throw Object.assign(toUpstream(err), { cause: err });
      }
      return list.map((p) => ({
        sid: p.sid,
        identity: p.identity,
        name: p.name,
        metadata: p.metadata,
        joinedAtMs: Number(p.joinedAtMs || p.joinedAt * 1000n),
        tracks: p.tracks.map((t) => ({ sid: t.sid, source: sourceName(t.source) })),
      }));
    },
    async removeParticipant(room, identity) {
      try {
        await client.removeParticipant(room, identity);
      } catch (err) {
        if (isNotFound(err)) return;
        throw Object.assign(toUpstream(err), { cause: err });
      }
    },
    mintToken: (req) => mint(config, req),
    async probe() {
      await client.listRooms(['auralink-readiness-probe']);
    },
  };
}

function notConfigured(config: Config): LiveKitAdapter {
  return {
    configured: false,
    wsUrl: null,
    createRoom: async () => null,
    deleteRoom: async () => undefined,
    listRooms: async () => [],
    listParticipants: async () => [],
    removeParticipant: async () => undefined,
    mintToken: (req) => mint(config, req),
    probe: async () => undefined,
  };
}
