-- Quality reports take their call's lock before they touch a row.
--
-- A batch of samples locks rows shared by the whole call: its day row
-- (quality_call_days, 009) and the call itself (the average score, 004), and between
-- them rows of its own participant. Webhooks and ending a call lock the same rows in
-- their own orders (ending: the call, then every seat; a join: the seat, the call,
-- the seat again), so two browsers flushing a batch while the host ends the call, or
-- while LiveKit reports a join, deadlocked ("deadlock detected" on UPDATE calls).
--
-- The one order everything agrees on is the per-call advisory lock that webhooks,
-- ending, reconciliation (exclusive) and token grants (shared) already take first
-- (rooms.repo lockCall: hashtextextended('call:' || call_id, 0)). Taking it here,
-- before the first row of a batch is inserted, puts every writer of a call's rows
-- behind it: batches of one call run one after another, batches of different calls
-- in parallel. A BEFORE ROW trigger, because it runs before the insert's own foreign
-- key locks and before every AFTER trigger (those fire in name order); taking the
-- lock again for the next rows of the batch is a local counter, not a lock-table trip.
CREATE FUNCTION app.quality_lock_call() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('call:' || NEW.call_id::text, 0));
  RETURN NEW;
END $$;
CREATE TRIGGER quality_metrics_lock_call BEFORE INSERT ON quality_metrics
  FOR EACH ROW EXECUTE FUNCTION app.quality_lock_call();
