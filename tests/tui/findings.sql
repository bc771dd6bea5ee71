-- Findings for the TUI fixture, so the findings view has content without `analyze`.
-- Run after ingesting tests/tui/fixture.jsonl (seqs follow its line numbers).
INSERT INTO findings(kind, severity, correlation_id, event_seq, related_seq, message, detail) VALUES
  ('duplicate.exact', 'warning', 'ord-1005', 14, 13,
   'e1005-1 from orders seen twice in fixture.jsonl: producer retry', '{}'),
  ('causality.orphan', 'error', 'ord-1004', 12, NULL,
   'causation e9999-404 names an event never seen', '{}'),
  ('ordering.time_before_cause', 'warning', 'ord-1001', 5, 4,
   'CustomerNotified is 200ms earlier than its cause ShipmentScheduled: clock skew', '{}');
