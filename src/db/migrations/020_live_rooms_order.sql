-- The operator's live rooms (admin.repo liveRooms): the open calls, busiest first. Along
-- calls_status_idx that fetched every open call's row and sorted them to keep 100: with
-- 1,200 calls open (most waiting for their first join) 11-25 ms of heap visits a request.
-- In the list's own order, the first 100 entries are the page. participant_count
-- changes on every join and leave, so those updates of an open call are no longer HOT
-- (each writes an entry in the calls indexes); calls that are not open are not in this
-- index and keep theirs.
CREATE INDEX calls_live_order_idx ON calls (participant_count DESC, created_at DESC, call_id)
  WHERE status IN ('waiting', 'active');
DROP INDEX calls_status_idx;
