-- Quality samples written for a seat rather than for a user: a guest who joined by an
-- invite link has no user, so the insert policy of quality_metrics (the seat must be
-- the caller's user's) can never admit it. The service verifies the guest's quality
-- token (an HMAC over the call, the seat and an expiry; the database never sees the
-- secret) and then calls this, which does one thing: it writes the batch for that
-- seat only if the seat belongs to that call, and returns how many rows it wrote, or
-- NULL when the seat is not the call's. Users keep writing through the policy.
CREATE FUNCTION app.quality_report_for_seat(p_call uuid, p_participant uuid, p_samples jsonb) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE n integer;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM call_participants WHERE participant_id = p_participant AND call_id = p_call) THEN
    RETURN NULL;
  END IF;
  INSERT INTO quality_metrics (call_id, participant_id, recorded_at, packet_loss_percent, jitter_ms, latency_ms,
      bandwidth_kbps, video_resolution, video_fps, audio_bitrate_kbps, video_bitrate_kbps, connection_type,
      ice_state, quality_score)
  SELECT p_call, p_participant, coalesce(s.recorded_at, now()), s.packet_loss_percent, s.jitter_ms, s.latency_ms,
         s.bandwidth_kbps, s.video_resolution, s.video_fps, s.audio_bitrate_kbps, s.video_bitrate_kbps,
         s.connection_type, s.ice_state, s.quality_score
    FROM jsonb_to_recordset(p_samples) AS s(recorded_at timestamptz, packet_loss_percent numeric,
         jitter_ms numeric, latency_ms numeric, bandwidth_kbps numeric, video_resolution text,
         video_fps numeric, audio_bitrate_kbps numeric, video_bitrate_kbps numeric, connection_type text,
         ice_state text, quality_score numeric);
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;
REVOKE EXECUTE ON FUNCTION app.quality_report_for_seat(uuid, uuid, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.quality_report_for_seat(uuid, uuid, jsonb) TO auralink_app;
