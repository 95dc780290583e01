"""The quota engine is PostgreSQL alone (lookups/quotas.py, README "Lookup quotas"): one counter row per
subject and window kind (officer or unit × minute or day) that a new window resets in place, so the
table holds at most two rows per officer and two per unit and never grows with time; the grant ledger
that kept Redis and the database in step goes. The decision's database work is two server-side
functions, each one round trip whose plans PostgreSQL caches per server connection (what a
transaction-pooling PgBouncer keeps working, unlike SQL-level PREPARE):

- lookups_quota_consume: the four windows of one decision, exact and all-or-nothing under row locks
  taken in key order;
- lookups_anomaly_facts: the anomaly rules' facts around an allowed lookup (lookups/anomalies.py).
"""
from django.db import migrations, models

QUOTA_CONSUME = r"""
CREATE OR REPLACE FUNCTION lookups_quota_consume(
    p_unit bigint, p_keys text[], p_starts timestamptz[], p_ends timestamptz[], p_limits integer[])
RETURNS integer[] LANGUAGE plpgsql AS $$
-- Returns {1 allowed | 0 refused, count 1, …, count 4}: the windows' counts after the decision
-- (unchanged when refused). A row of an older window counts as 0 and is reset in place when the
-- decision is allowed; a row of a newer window (a caller whose clock is behind) keeps its window.
DECLARE
  v_counts integer[] := ARRAY[0, 0, 0, 0];
  v_row record;
  v_i integer;
BEGIN
  INSERT INTO lookups_quotacounter AS c (unit_id, key, window_start, window_end, count)
  SELECT p_unit, t.k, t.s, t.e, 0 FROM unnest(p_keys, p_starts, p_ends) AS t(k, s, e) ORDER BY t.k
  ON CONFLICT (key) DO NOTHING;
  -- A statement of its own after the insert: under READ COMMITTED it sees what the previous holder of
  -- each row lock committed.
  FOR v_row IN SELECT c.key, c.window_start, c.count FROM lookups_quotacounter c
               WHERE c.key = ANY (p_keys) ORDER BY c.key FOR UPDATE LOOP
    v_i := array_position(p_keys, v_row.key);
    IF v_row.window_start >= p_starts[v_i] THEN
      v_counts[v_i] := v_row.count;
    END IF;
  END LOOP;
  FOR v_i IN 1..4 LOOP
    IF v_counts[v_i] + 1 > p_limits[v_i] THEN
      RETURN 0 || v_counts;
    END IF;
  END LOOP;
  UPDATE lookups_quotacounter c
     SET count = t.n + 1, unit_id = p_unit,
         window_start = greatest(c.window_start, t.s),
         window_end = CASE WHEN c.window_start > t.s THEN c.window_end ELSE t.e END
    FROM unnest(p_keys, p_starts, p_ends, v_counts) AS t(k, s, e, n)
   WHERE c.key = t.k;
  RETURN 1 || ARRAY[v_counts[1] + 1, v_counts[2] + 1, v_counts[3] + 1, v_counts[4] + 1];
END
$$;
"""

ANOMALY_FACTS = r"""
CREATE OR REPLACE FUNCTION lookups_anomaly_facts(
    p_day date, p_officer bigint, p_action text, p_state_1 text, p_state_2 text, p_citizen text,
    p_record bigint, p_dossier text, p_allow text, p_since timestamptz)
RETURNS TABLE (f_holiday boolean, f_dossier_citizens bigint, f_citizen_seen integer,
               f_citizen_officers bigint, f_officer_seen integer, f_disable_request bigint)
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN QUERY
  SELECT
    EXISTS (SELECT 1 FROM accounts_holiday h WHERE h.date = p_day),
    dossier.citizens, dossier.seen, citizen.officers, citizen.seen,
    (SELECT line.request_id FROM accounts_turnoverline line
       JOIN accounts_turnoverrequest request ON request.id = line.request_id
      WHERE line.account_id = p_officer AND line.action = p_action AND request.state IN (p_state_1, p_state_2)
      ORDER BY line.request_id LIMIT 1)
  FROM
    (SELECT count(DISTINCT r.citizen_id_hash) AS citizens,
            max(CASE WHEN r.citizen_id_hash = p_citizen AND r.id <> p_record THEN 1 ELSE 0 END) AS seen
       FROM lookups_lookuprecord r
      WHERE r.dossier_code = p_dossier AND r.decision = p_allow AND r.decided_at >= p_since) dossier,
    (SELECT count(DISTINCT r.officer_id) AS officers,
            max(CASE WHEN r.officer_id = p_officer AND r.id <> p_record THEN 1 ELSE 0 END) AS seen
       FROM lookups_lookuprecord r
      WHERE r.citizen_id_hash = p_citizen AND r.decision = p_allow AND r.decided_at >= p_since) citizen;
END
$$;
"""


class Migration(migrations.Migration):

    dependencies = [
        ("lookups", "0007_anomaly_flag_review"),
    ]

    operations = [
        migrations.DeleteModel(name="QuotaGrant"),
        migrations.RunSQL("DELETE FROM lookups_quotacounter", reverse_sql=migrations.RunSQL.noop),
        migrations.RemoveConstraint(model_name="quotacounter", name="quota_counter_one_per_window"),
        migrations.RemoveIndex(model_name="quotacounter", name="quota_counter_unit_end"),
        migrations.AddConstraint(
            model_name="quotacounter",
            constraint=models.UniqueConstraint(fields=["key"], name="quota_counter_one_per_subject"),
        ),
        migrations.RunSQL(QUOTA_CONSUME, reverse_sql="DROP FUNCTION IF EXISTS lookups_quota_consume"),
        migrations.RunSQL(ANOMALY_FACTS, reverse_sql="DROP FUNCTION IF EXISTS lookups_anomaly_facts"),
    ]
