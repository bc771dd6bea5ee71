-- hop-latency: how long each causal hop takes, from a cause's type to its effect's type.
--
-- A hop joins an effect to its cause (effect.causation_id = cause.event_id); each event
-- counts once however many times it was observed (its first observation is used); when
-- two events share the cause's id, the one in the effect's own process is the cause. The
-- latency is the difference of producer times, so a skewed clock shows as a negative
-- minimum. Percentiles are nearest-rank over the hops of each pair.
--
-- Parameters:
--   :min_count    only pairs with at least this many hops (optional; default 1)
-- Columns:
--   cause_type    type of the cause
--   effect_type   type of the effect
--   hops          number of cause → effect links
--   min_ms        fastest hop (negative: the effect's clock is behind the cause's)
--   p50_ms        median
--   p95_ms        95th percentile
--   max_ms        slowest hop
-- Run with sqlite3:
--   sqlite3 eventscope.db < queries/hop-latency.sql
WITH node AS (
    SELECT event_id, source, type, time_us, min(seq) AS seq
    FROM events
    WHERE event_id IS NOT NULL AND time_us IS NOT NULL
    GROUP BY source, event_id
),
link AS (
    SELECT e.type AS effect_type, e.time_us,
           coalesce((SELECT min(x.seq) FROM events AS x
                     WHERE x.event_id = eo.causation_id AND x.time_us IS NOT NULL
                       AND x.correlation_id = eo.correlation_id),
                    (SELECT min(x.seq) FROM events AS x
                     WHERE x.event_id = eo.causation_id AND x.time_us IS NOT NULL))
               AS cause_seq
    FROM node AS e
    JOIN events AS eo ON eo.seq = e.seq
    WHERE eo.causation_id IS NOT NULL
),
hop AS (
    SELECT c.type AS cause_type, l.effect_type, (l.time_us - c.time_us) / 1000.0 AS ms
    FROM link AS l
    JOIN events AS c ON c.seq = l.cause_seq
),
ranked AS (
    SELECT cause_type, effect_type, ms,
           row_number() OVER w AS rn,
           count(*) OVER (PARTITION BY cause_type, effect_type) AS n
    FROM hop
    WINDOW w AS (PARTITION BY cause_type, effect_type ORDER BY ms)
)
SELECT cause_type,
       effect_type,
       max(n) AS hops,
       round(min(ms), 3) AS min_ms,
       round(min(CASE WHEN rn >= (n * 50 + 99) / 100 THEN ms END), 3) AS p50_ms,
       round(min(CASE WHEN rn >= (n * 95 + 99) / 100 THEN ms END), 3) AS p95_ms,
       round(max(ms), 3) AS max_ms
FROM ranked
GROUP BY cause_type, effect_type
HAVING max(n) >= coalesce(:min_count, 1)
ORDER BY hops DESC, cause_type, effect_type;
