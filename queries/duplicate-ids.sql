-- duplicate-ids: event identities (source + id, as CloudEvents defines identity) seen
-- more than once, whether as the same content (a duplicate) or not (an id collision).
--
-- One publish plus one delivery per consumer is normal; compare `directions` and
-- `channels` before calling it a defect (`analyze` does, see DESIGN.md "Findings").
--
-- Parameters:
--   :min_count    report identities seen at least this often (optional; default 2)
-- Columns:
--   source        producing service
--   event_id      envelope id
--   observations  times seen
--   contents      distinct payload hashes: 1 = same content, >1 = id collision
--   types         distinct types, comma-separated
--   directions    directions seen, comma-separated
--   first_seq     first observation
--   locations     where each was read, in observation order
-- Run with sqlite3:
--   sqlite3 eventscope.db < queries/duplicate-ids.sql
SELECT source,
       event_id,
       count(*) AS observations,
       count(DISTINCT payload_hash) AS contents,
       group_concat(DISTINCT type) AS types,
       group_concat(DISTINCT direction) AS directions,
       min(seq) AS first_seq,
       group_concat(location, ' ') AS locations
FROM (SELECT * FROM events WHERE event_id IS NOT NULL ORDER BY seq)
GROUP BY source, event_id
HAVING count(*) >= coalesce(:min_count, 2)
ORDER BY observations DESC, first_seq;
