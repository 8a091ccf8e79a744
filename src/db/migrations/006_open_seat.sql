-- At most one untaken seat (a token handed out, no LiveKit session yet) per identity
-- and call. Token minting upserts against this index instead of serializing every
-- grant for a call behind one lock.
DELETE FROM call_participants p
 USING call_participants newer
 WHERE p.call_id = newer.call_id AND p.identity = newer.identity
   AND p.status = 'waiting' AND p.participant_sid IS NULL
   AND newer.status = 'waiting' AND newer.participant_sid IS NULL
   AND (newer.created_at, newer.participant_id) > (p.created_at, p.participant_id);
CREATE UNIQUE INDEX call_participants_open_seat_key ON call_participants (call_id, identity)
  WHERE status = 'waiting' AND participant_sid IS NULL;
