-- Live call tracking: LiveKit webhook idempotency, per-participant media timeline,
-- and why a session ended.

-- Each LiveKit webhook id is stored in the transaction that applies it, so a
-- redelivery after a commit is a no-op and one after a rollback applies again.
-- Only the privileged path (webhooks, jobs) touches it: RLS on, no policies, no grants.
CREATE TABLE webhook_events (
  event_id    text PRIMARY KEY CHECK (length(event_id) BETWEEN 1 AND 256),
  event       text NOT NULL CHECK (length(event) <= 64),
  room_name   text,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_events_received_idx ON webhook_events (received_at);
ALTER TABLE webhook_events ENABLE ROW LEVEL SECURITY;

-- LiveKit's reason for a disconnect, e.g. DUPLICATE_IDENTITY when a reconnect
-- replaced the session.
ALTER TABLE call_participants ADD COLUMN disconnect_reason text CHECK (length(disconnect_reason) <= 64);

-- One row per track publish/unpublish of a participant session. A track sid is
-- published at most once and unpublished at most once, so (participant, track,
-- action) is unique and the current media state is "published and not yet
-- unpublished", whatever order the webhooks arrived in.
CREATE TABLE participant_media_events (
  media_event_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  call_id        uuid NOT NULL REFERENCES calls (call_id) ON DELETE CASCADE,
  participant_id uuid NOT NULL REFERENCES call_participants (participant_id) ON DELETE CASCADE,
  track_sid      text NOT NULL CHECK (length(track_sid) BETWEEN 1 AND 128),
  source         text NOT NULL
                   CHECK (source IN ('camera', 'microphone', 'screen_share', 'screen_share_audio', 'unknown')),
  action         text NOT NULL CHECK (action IN ('published', 'unpublished')),
  occurred_at    timestamptz NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT participant_media_events_once UNIQUE (participant_id, track_sid, action)
);
CREATE INDEX participant_media_events_call_idx ON participant_media_events (call_id, occurred_at);

ALTER TABLE participant_media_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY participant_media_events_select ON participant_media_events FOR SELECT USING (app.can_see_call(call_id));
GRANT SELECT ON participant_media_events TO auralink_app;
