-- Live rooms list each room's first connected sessions by join time
-- (admin.repo liveSessions, LIMIT per room): in join order, that is a short index range
-- per room instead of reading and sorting every session of a webinar room. It replaces
-- 008's call_participants_open_idx (call_id WHERE status = 'connected'), which it
-- covers (same leading column, same predicate); with both, the planner kept the
-- narrower one and sorted all of a room's sessions to keep 50.
CREATE INDEX call_participants_connected_join_idx ON call_participants (call_id, joined_at, participant_id)
  WHERE status = 'connected';
DROP INDEX call_participants_open_idx;
