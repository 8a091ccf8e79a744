// Request and response schemas of the operator API (they also feed /openapi.json).
import { Type } from 'typebox';
import { Nullable, PageQuery, Timestamp, Uuid } from '../../http/schemas.ts';
import { callFields } from '../calls/calls.routes.ts';
import { VisitDay } from '../links/links.routes.ts';

const Num = Nullable(Type.Number());
const Day = Type.String({ format: 'date', description: 'UTC day, YYYY-MM-DD' });

export const Range = {
  from: Type.Optional(Type.String({ format: 'date', description: 'first UTC day (default: 29 days before to)' })),
  to: Type.Optional(Type.String({ format: 'date', description: 'last UTC day, included (default: today)' })),
};

export const AdminCall = Type.Object({
  ...callFields,
  privacy: Type.String(),
  sessions: Type.Integer({ description: 'LiveKit sessions that joined (a reconnect is a new session)' }),
});

export const CallsQuery = Type.Object({
  status: Type.Optional(Type.Union(['waiting', 'active', 'ended', 'failed'].map((s) => Type.Literal(s)))),
  call_type: Type.Optional(Type.Union(['one_to_one', 'group', 'conference', 'broadcast'].map((s) => Type.Literal(s)))),
  from: Type.Optional(Type.String({ format: 'date-time', description: 'created at or after' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'created before' })),
  room: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'exact room name' })),
  q: Type.Optional(Type.String({ maxLength: 100, description: 'text in the title, room name or a participant name' })),
  ...PageQuery,
});

export const CallParams = Type.Object({ call_id: Uuid });

const Participant = Type.Object({
  participant_id: Uuid,
  user_id: Nullable(Uuid),
  identity: Type.String(),
  display_name: Nullable(Type.String()),
  role: Type.String(),
  status: Type.String(),
  joined_at: Nullable(Timestamp),
  left_at: Nullable(Timestamp),
  duration_seconds: Nullable(Type.Integer()),
  audio_enabled: Type.Boolean(),
  video_enabled: Type.Boolean(),
  screen_sharing: Type.Boolean(),
  avg_quality_score: Num,
  packet_loss_percent: Num,
  avg_latency_ms: Nullable(Type.Integer()),
  connection_type: Nullable(Type.String()),
  disconnect_reason: Nullable(Type.String()),
});

const QualityNumbers = {
  samples: Type.Integer(),
  avg_quality_score: Num,
  min_quality_score: Num,
  avg_packet_loss_percent: Num,
  avg_latency_ms: Num,
  avg_jitter_ms: Num,
};

export const CallDetail = Type.Object({
  call: AdminCall,
  participants: Type.Array(Participant),
  timeline: Type.Array(
    Type.Object({
      participant_id: Uuid,
      identity: Type.String(),
      display_name: Nullable(Type.String()),
      events: Type.Array(
        Type.Object({
          at: Timestamp,
          type: Type.String({ description: 'joined | published | unpublished | left | disconnected' }),
          source: Type.Optional(Type.String()),
          reason: Type.Optional(Nullable(Type.String())),
        }),
      ),
    }),
  ),
  quality: Type.Object({
    summary: Type.Object(QualityNumbers),
    participants: Type.Array(Type.Object({ participant_id: Uuid, ...QualityNumbers })),
  }),
  files: Type.Array(
    Type.Object({
      file_id: Uuid,
      file_name: Type.String(),
      file_type: Type.String(),
      file_size: Type.Integer(),
      uploader_id: Nullable(Uuid),
      access_level: Type.String(),
      scan_status: Type.String(),
      expires_at: Nullable(Timestamp),
      created_at: Timestamp,
    }),
  ),
  links: Type.Array(
    Type.Object({
      link_id: Uuid,
      short_code: Type.String(),
      title: Nullable(Type.String()),
      access_type: Type.String(),
      is_active: Type.Boolean(),
      expires_at: Nullable(Timestamp),
      max_uses: Nullable(Type.Integer()),
      current_uses: Type.Integer(),
      total_clicks: Type.Integer(),
      unique_visitors: Type.Integer(),
      created_by: Uuid,
      created_at: Timestamp,
      last_used_at: Nullable(Timestamp),
      days: Type.Array(VisitDay, { description: 'As GET /api/v1/links/{link_id}/stats: every day with visits, oldest first' }),
    }),
  ),
});

export const LiveQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  participants: Type.Optional(
    Type.Integer({ minimum: 0, maximum: 200, default: 20, description: 'Connected sessions to list per room (earliest joins first)' }),
  ),
});

export const LiveRooms = Type.Object({
  rooms: Type.Array(
    Type.Object({
      call_id: Uuid,
      room_name: Type.String(),
      name: Type.String(),
      call_type: Type.String(),
      status: Type.String(),
      started_at: Nullable(Timestamp),
      created_at: Timestamp,
      created_by: Uuid,
      participant_count: Type.Integer(),
      max_participants: Type.Integer(),
      participants_total: Type.Integer({ description: 'Sessions connected to the room now (participants lists the first of them)' }),
      participants: Type.Array(
        Type.Object({
          participant_id: Uuid,
          user_id: Nullable(Uuid),
          identity: Type.String(),
          display_name: Nullable(Type.String()),
          role: Type.String(),
          joined_at: Nullable(Timestamp),
          audio_enabled: Type.Boolean(),
          video_enabled: Type.Boolean(),
          screen_sharing: Type.Boolean(),
          avg_quality_score: Num,
        }),
        { description: 'The first connected sessions by join time (`participants` of them, default 20); participants_total counts them all' },
      ),
    }),
  ),
});

export const UsageQuery = Type.Object({
  ...Range,
  room: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'one room (exact name)' })),
  user_id: Type.Optional(Uuid),
});

const UsageDay = Type.Object({
  day: Day,
  participant_minutes: Type.Number(),
  calls: Type.Integer({ description: 'calls with participant time that day' }),
  participations: Type.Integer({ description: 'people in calls that day, counted once per call' }),
  peak_concurrent: Nullable(Type.Integer({ description: 'most people connected at one minute mark (deployment only)' })),
});

export const Usage = Type.Object({
  from: Day,
  to: Day,
  scope: Nullable(Type.Object({ room: Type.Optional(Type.String()), user_id: Type.Optional(Uuid) })),
  days: Type.Array(UsageDay),
  totals: Type.Object({
    participant_minutes: Type.Number(),
    participations: Type.Integer(),
    call_days: Type.Integer({ description: 'sum of the daily call counts (a call over midnight counts per day)' }),
    peak_concurrent: Nullable(Type.Integer()),
  }),
  now: Nullable(Type.Object({ participants: Type.Integer(), calls: Type.Integer() })),
});

export const TopQuery = Type.Object({ ...Range, limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })) });

export const UsageRooms = Type.Object({
  rooms: Type.Array(
    Type.Object({
      call_id: Uuid,
      room_name: Type.String(),
      name: Type.String(),
      status: Type.String(),
      participant_minutes: Type.Number(),
      days_active: Type.Integer(),
    }),
  ),
});

export const UsageUsers = Type.Object({
  users: Type.Array(
    Type.Object({
      user_id: Uuid,
      display_name: Nullable(Type.String()),
      aura_id: Nullable(Type.String()),
      participant_minutes: Type.Number(),
      call_days: Type.Integer(),
    }),
  ),
});

export const WorstQuery = Type.Object({
  ...Range,
  metric: Type.Optional(Type.Union([Type.Literal('mos'), Type.Literal('packet_loss'), Type.Literal('rtt')], { default: 'mos' })),
  subject: Type.Optional(Type.Union([Type.Literal('calls'), Type.Literal('participants')], { default: 'calls' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
});

const Stats = {
  samples: Type.Integer(),
  avg_quality_score: Num,
  min_quality_score: Num,
  avg_packet_loss_percent: Num,
  max_packet_loss_percent: Num,
  avg_latency_ms: Num,
  max_latency_ms: Num,
  avg_jitter_ms: Num,
};

export const Worst = Type.Object({
  metric: Type.String(),
  subject: Type.String(),
  calls: Nullable(
    Type.Array(
      Type.Object({ call_id: Uuid, room_name: Type.String(), name: Type.String(), status: Type.String(), started_at: Nullable(Timestamp), ...Stats }),
    ),
  ),
  participants: Nullable(
    Type.Array(
      Type.Object({
        participant_id: Uuid,
        call_id: Uuid,
        user_id: Nullable(Uuid),
        identity: Type.String(),
        display_name: Nullable(Type.String()),
        room_name: Type.String(),
        ...Stats,
      }),
    ),
  ),
});

const Failure = Type.Object({
  occurred_at: Timestamp,
  kind: Type.String({ description: 'signature | body | apply' }),
  count: Type.Integer(),
  event: Nullable(Type.String()),
  event_id: Nullable(Type.String()),
  room_name: Nullable(Type.String()),
  error: Nullable(Type.String()),
});

const RunCounts = {
  calls: Type.Integer(),
  calls_ended: Type.Integer(),
  sessions_joined: Type.Integer(),
  sessions_left: Type.Integer(),
  tracks: Type.Integer(),
};

export const LivekitHealth = Type.Object({
  livekit_configured: Type.Boolean(),
  webhooks: Type.Object({
    last_received_at: Nullable(Timestamp),
    last_event: Nullable(Type.String()),
    last_room_name: Nullable(Type.String()),
    received_last_hour: Type.Integer(),
    received_last_day: Type.Integer(),
  }),
  webhook_failures: Type.Object({
    last_day: Type.Object({ signature: Type.Integer(), body: Type.Integer(), apply: Type.Integer() }),
    recent: Type.Array(Failure),
  }),
  reconciliation: Type.Object({
    last_run_at: Nullable(Timestamp),
    last_day: Type.Object({ runs: Type.Integer(), failed: Type.Integer(), ...RunCounts }),
    recent: Type.Array(
      Type.Object({ started_at: Timestamp, finished_at: Timestamp, error: Nullable(Type.String()), ...RunCounts }),
    ),
  }),
});
