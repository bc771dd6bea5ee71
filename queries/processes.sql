-- processes: one row per business process (correlation ID), oldest first.
--
-- Aggregates the events table along its correlation_id index. Observations without a
-- correlation ID are not a process and are left out (see `orphans`, `analyze`).
--
-- Parameters:
--   :limit        at most this many rows (optional; NULL or unset = all)
-- Columns:
--   correlation_id  the process
--   first_time      earliest producer time (RFC 3339 UTC)
--   last_time       latest producer time
--   duration_ms     last_time - first_time in milliseconds
--   events          observations
--   services        distinct sources, comma-separated, sorted
--   last_type       type of the latest event
--   findings        rows in the findings table for this process (0 before `analyze`)
-- Run with sqlite3:
--   sqlite3 -cmd ".param set :limit 20" eventscope.db < queries/processes.sql
WITH p AS (
    SELECT correlation_id,
           min(coalesce(time_us, observed_us)) AS first_us,
           max(coalesce(time_us, observed_us)) AS last_us,
           count(*) AS events
    FROM events
    WHERE correlation_id IS NOT NULL
    GROUP BY correlation_id
    ORDER BY first_us IS NULL, first_us, correlation_id
    LIMIT coalesce(:limit, -1)
),
f AS (
    SELECT correlation_id, count(*) AS n FROM findings
    WHERE correlation_id IS NOT NULL GROUP BY correlation_id
)
SELECT p.correlation_id,
       strftime('%Y-%m-%dT%H:%M:%fZ', p.first_us / 1e6, 'unixepoch') AS first_time,
       strftime('%Y-%m-%dT%H:%M:%fZ', p.last_us / 1e6, 'unixepoch') AS last_time,
       round((p.last_us - p.first_us) / 1000.0, 3) AS duration_ms,
       p.events,
       (SELECT group_concat(s, ',') FROM
            (SELECT DISTINCT source AS s FROM events AS e
             WHERE e.correlation_id = p.correlation_id AND source IS NOT NULL
             ORDER BY source)) AS services,
       (SELECT type FROM events AS e WHERE e.correlation_id = p.correlation_id
        ORDER BY coalesce(time_us, observed_us) DESC, seq DESC LIMIT 1) AS last_type,
       coalesce(f.n, 0) AS findings
FROM p LEFT JOIN f ON f.correlation_id = p.correlation_id
ORDER BY p.first_us IS NULL, p.first_us, p.correlation_id;
