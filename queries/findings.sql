-- findings: every finding `analyze` stored, with the event it points at.
--
-- Parameters:
--   :kind         only this kind, e.g. duplicate.exact (optional; unset = all)
--   :cid          only this correlation ID (optional; unset = every process)
-- Columns:
--   id              finding number
--   kind            finding kind (DESIGN.md "Findings")
--   severity        error | warning | info
--   correlation_id  process
--   event_seq       the offending observation (events.seq)
--   related_seq     its context (cause, first copy), or NULL
--   type            the offending event's type
--   source          its producer
--   location        where it was read
--   message         what to do about it
-- Run with sqlite3:
--   sqlite3 -cmd ".param set :kind duplicate.exact" eventscope.db < queries/findings.sql
SELECT f.id, f.kind, f.severity, f.correlation_id, f.event_seq, f.related_seq,
       e.type, e.source, e.location, f.message
FROM findings AS f
LEFT JOIN events AS e ON e.seq = f.event_seq
WHERE (:kind IS NULL OR f.kind = :kind)
  AND (:cid IS NULL OR f.correlation_id = :cid)
ORDER BY f.id;
