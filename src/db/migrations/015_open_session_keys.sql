-- Indexes for the operator usage queries' open sessions (usage.repo OPEN_KEYS), which
-- group the sessions connected now by person and look up each person's closed spans.
-- With thousands of people connected (big webinar rooms), the partial index of 008
-- (call_id WHERE status = 'connected') made that a heap visit and a sort per open
-- session, and the per-person lookup along call_participants_identity_idx visited the
-- open session's own row each time to learn it is not closed.

-- Exactly the open-session predicate, in key order, with the join time: an index-only
-- scan that is already grouped by person.
CREATE INDEX call_participants_open_key_idx ON call_participants (call_id, identity, user_id) INCLUDE (joined_at)
  WHERE status = 'connected' AND joined_at IS NOT NULL AND left_at IS NULL;

-- Closed sessions by person with their span: the lookup for a person who never left
-- (most guests of a live room) is one index descent and no heap visit.
CREATE INDEX call_participants_closed_key_idx ON call_participants (call_id, identity, user_id) INCLUDE (joined_at, left_at)
  WHERE left_at IS NOT NULL;
