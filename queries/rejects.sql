-- rejects: input records that could not be read, with where they were and why.
--
-- Parameters:
--   :reason       only this reason (optional; unset = all), e.g. json_truncated
-- Columns:
--   origin        the file, capture or tap URL
--   location      file:line, frame N, topic@offset
--   reason        snake_case reason
--   excerpt       the start of the record as read
-- Run with sqlite3:
--   sqlite3 eventscope.db < queries/rejects.sql
SELECT o.uri AS origin, r.location, r.reason, r.excerpt
FROM rejects AS r
LEFT JOIN origins AS o ON o.id = r.origin_id
WHERE :reason IS NULL OR r.reason = :reason
ORDER BY r.rowid;
