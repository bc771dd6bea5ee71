-- findings-summary: what `analyze` found, one row per kind and severity.
--
-- Parameters: none
-- Columns:
--   kind          finding kind (DESIGN.md "Findings")
--   severity      severity
--   findings      how many
--   processes     distinct correlation IDs affected
--   example       one message, from the first finding of the kind
-- Run with sqlite3:
--   sqlite3 eventscope.db < queries/findings-summary.sql
SELECT kind,
       severity,
       count(*) AS findings,
       count(DISTINCT correlation_id) AS processes,
       (SELECT message FROM findings AS g
        WHERE g.kind = f.kind AND g.severity IS f.severity ORDER BY g.id LIMIT 1) AS example
FROM findings AS f
GROUP BY kind, severity
ORDER BY findings DESC, kind, severity;
