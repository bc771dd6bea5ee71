-- trace: every observation of one business process, in time order, with its cause.
--
-- One row per observation (sighting) of an event whose correlation ID is :cid. The cause
-- is the first observation, in the same process, of the event whose event_id equals this
-- row's causation_id (NULL for a root, or for an orphan whose cause was never seen).
--
-- Parameters:
--   :cid          the correlation ID (required)
-- Columns:
--   seq           observation order in the store
--   time          producer time, RFC 3339 UTC with milliseconds (NULL when absent)
--   source        producing service
--   type          event type
--   event_id      envelope id
--   causation_id  the cause's event id as carried
--   parent_seq    seq of the cause's first observation in this process, or NULL
--   delta_ms      milliseconds from the cause's time to this event's time
--   direction     publish | deliver | log
--   location      where it was read (file:line, frame N, topic@offset)
-- Run with sqlite3:
--   sqlite3 -cmd ".param set :cid ord-1042" eventscope.db < queries/trace.sql
SELECT e.seq,
       strftime('%Y-%m-%dT%H:%M:%fZ', e.time_us / 1e6, 'unixepoch') AS time,
       e.source,
       e.type,
       e.event_id,
       e.causation_id,
       c.seq AS parent_seq,
       round((e.time_us - c.time_us) / 1000.0, 3) AS delta_ms,
       e.direction,
       e.location
FROM events AS e
LEFT JOIN events AS c
       ON c.seq = (SELECT min(x.seq) FROM events AS x
                   WHERE x.event_id = e.causation_id AND x.correlation_id = e.correlation_id)
WHERE e.correlation_id = :cid
ORDER BY e.time_us IS NULL, e.time_us, e.seq;
