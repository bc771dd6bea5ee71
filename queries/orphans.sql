-- orphans: observations whose causation ID names an event that was never seen.
--
-- Parameters:
--   :cid          only this correlation ID (optional; unset = every process)
-- Columns:
--   seq             observation
--   correlation_id  its process
--   source          producing service
--   type            event type
--   event_id        envelope id
--   causation_id    the missing cause's id
--   location        where it was read
-- Run with sqlite3:
--   sqlite3 eventscope.db < queries/orphans.sql
SELECT e.seq, e.correlation_id, e.source, e.type, e.event_id, e.causation_id, e.location
FROM events AS e
WHERE e.causation_id IS NOT NULL AND e.causation_id <> ''
  AND (:cid IS NULL OR e.correlation_id = :cid)
  AND NOT EXISTS (SELECT 1 FROM events AS c WHERE c.event_id = e.causation_id)
ORDER BY e.seq;
