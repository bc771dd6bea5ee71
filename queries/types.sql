-- types: how many observations of each event type each source produced, and when.
--
-- Parameters: none
-- Columns:
--   type          event type (NULL: events without one)
--   source        producing service
--   events        observations
--   processes     distinct correlation IDs
--   first_time    earliest producer time (RFC 3339 UTC)
--   last_time     latest producer time
-- Run with sqlite3:
--   sqlite3 eventscope.db < queries/types.sql
SELECT type,
       source,
       count(*) AS events,
       count(DISTINCT correlation_id) AS processes,
       strftime('%Y-%m-%dT%H:%M:%fZ', min(time_us) / 1e6, 'unixepoch') AS first_time,
       strftime('%Y-%m-%dT%H:%M:%fZ', max(time_us) / 1e6, 'unixepoch') AS last_time
FROM events
GROUP BY type, source
ORDER BY events DESC, type, source;
