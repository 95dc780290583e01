"""What was left of a lookup decision's cost on the database (README, "Where a decision's time goes",
issue 23), each part measured alone on a quiet machine before and after:

- The record table loses two indexes nothing reads: Django's single-column indexes on `officer_id`
  (the composite lookup_record_officer (officer_id, decided_at) serves every read by officer) and on
  `client_id` (no read filters by client; the column has no database constraint, so no delete
  cascades through it). Every decision inserted into eight indexes; now six.
- `lookups_quota_consume` counts with one UPDATE per window in key order, and takes the counts back
  in the rare refusal: it used to lock the four rows (SELECT … FOR UPDATE, a WAL record per row lock)
  and then update them, after an `INSERT … ON CONFLICT DO NOTHING` that probed the unique index four
  times to insert nothing. Alone, under pgbench with the commit's flush left out: 0.24 ms of
  PostgreSQL's time per call before, 0.09 ms after. It inserts only when a row is missing (a new
  officer or unit, or after the prune).
- The officer's statement is a server-side function too, `lookups_decision_officer`: the account, its
  unit and the policy record as whole rows, with lookups_decision_facts beside them. Sent as a
  plain statement, the join with the facts function was parsed and planned on every decision (≈ 0.27
  ms of PostgreSQL's CPU, more than half of the statement's 0.46 ms: measured against the same
  statement prepared); inside a PL/pgSQL function its plan is kept per server connection, and what
  the portal sends is a call whose plan is trivial. The rows come back as one JSON text (each table's
  whole row, by column name), so the function follows the tables as later migrations change them and
  the statement sent stays short (a call naming 63 columns cost PostgreSQL ~0.15 ms more to parse);
  lookups/selectors.py builds the models from it. The account's password hash is left out: a
  decision never reads it.
"""
from django.db import migrations, models

DECISION_OFFICER = r"""
CREATE OR REPLACE FUNCTION lookups_decision_officer(
    p_username text, p_policy_id bigint, p_now timestamptz, p_lockout_minutes integer, p_day date,
    p_dossier text, p_citizen text, p_allow text, p_since timestamptz, p_disable text, p_states text[])
RETURNS text LANGUAGE plpgsql STABLE AS $$
-- [the account, its unit, the policy record, then the ten columns of lookups_decision_facts] as JSON
-- text, or NULL when no account has this username (exactly: the caller folds it). Each row is its
-- table's whole row (row_to_json: every column there is, named), but the account's password hash,
-- which a decision never reads; the policy is null when the database has no record.
DECLARE
  v_found text;
BEGIN
  SELECT json_build_array(to_jsonb(u) - 'password', row_to_json(n), row_to_json(p),
                          f.f_failures, f.f_latest_failure, f.f_overrides, f.f_holiday, f.f_dossier_citizens,
                          f.f_citizen_seen, f.f_citizen_officers, f.f_officer_seen, f.f_disable_request,
                          f.f_unit_contained)::text
    INTO v_found
    FROM accounts_user u
    JOIN accounts_unit n ON n.id = u.unit_id
    LEFT JOIN policy_passwordpolicy p ON p.id = p_policy_id
   CROSS JOIN LATERAL lookups_decision_facts(
           u.id, u.username, u.unit_id, u.role,
           p_now - make_interval(mins => coalesce(p.lockout_minutes, p_lockout_minutes)), p_day, p_dossier,
           p_citizen, p_allow, p_since, p_disable, p_states, n.path) f
   WHERE u.username = p_username;
  RETURN v_found;
END
$$;
"""

QUOTA_CONSUME = r"""
CREATE OR REPLACE FUNCTION lookups_quota_consume(
    p_unit bigint, p_keys text[], p_starts timestamptz[], p_ends timestamptz[], p_limits integer[])
RETURNS integer[] LANGUAGE plpgsql AS $$
-- Returns {1 allowed | 0 refused, count 1, …, count 4}: the windows' counts after the decision
-- (as before it when refused). A row of an older window counts as 0 and starts the new window; a row
-- of a newer window (a caller whose clock is behind) keeps its window.
DECLARE
  v_counts integer[] := ARRAY[0, 0, 0, 0];
  -- The rows are updated one by one in key order, so that two decisions sharing a unit's rows take
  -- their locks in the same order (no deadlock).
  v_order integer[] := ARRAY(SELECT i FROM generate_subscripts(p_keys, 1) i ORDER BY p_keys[i]);
  v_i integer;
  v_pass integer;
  v_count integer;
  v_refused boolean := false;
BEGIN
  FOREACH v_i IN ARRAY v_order LOOP
    -- Count first: the UPDATE takes the row's lock (waiting for a decision that holds it, then counting
    -- on from what that one committed). Only when the row is missing (the first lookup of an officer or
    -- unit, or after the prune) insert it and count again: a statement of its own, so that under READ
    -- COMMITTED it sees the row a concurrent first lookup committed (the insert waits for that one).
    FOR v_pass IN 1..3 LOOP
      UPDATE lookups_quotacounter c
         SET count = CASE WHEN c.window_start >= p_starts[v_i] THEN c.count + 1 ELSE 1 END,
             unit_id = p_unit,
             window_start = greatest(c.window_start, p_starts[v_i]),
             window_end = CASE WHEN c.window_start > p_starts[v_i] THEN c.window_end ELSE p_ends[v_i] END
       WHERE c.key = p_keys[v_i]
      RETURNING c.count INTO v_count;
      EXIT WHEN FOUND;
      IF v_pass = 3 THEN  -- inserted and still missing (deleted meanwhile): refuse rather than count short
        RAISE EXCEPTION 'lookups_quota_consume: counter % missing after inserting it', p_keys[v_i];
      END IF;
      INSERT INTO lookups_quotacounter (unit_id, key, window_start, window_end, count)
      VALUES (p_unit, p_keys[v_i], p_starts[v_i], p_ends[v_i], 0)
      ON CONFLICT (key) DO NOTHING;
    END LOOP;
    v_counts[v_i] := v_count;
    v_refused := v_refused OR v_count > p_limits[v_i];
  END LOOP;
  IF v_refused THEN
    -- All or nothing: take the counts back, under the locks still held (nobody saw them). A window
    -- started by this decision is left started with 0, which counts as its older window did.
    UPDATE lookups_quotacounter c SET count = c.count - 1 WHERE c.key = ANY (p_keys);
    RETURN 0 || ARRAY[v_counts[1] - 1, v_counts[2] - 1, v_counts[3] - 1, v_counts[4] - 1];
  END IF;
  RETURN 1 || v_counts;
END
$$;
"""

def _previous(module: str, name: str) -> str:
    from importlib import import_module

    return getattr(import_module(f"lookups.migrations.{module}"), name)


class Migration(migrations.Migration):

    dependencies = [
        ("lookups", "0011_decision_facts_containment"),
        ("accounts", "0019_containment_targets"),
        ("policy", "0008_expiry_warning_folded_into_reminders"),
    ]

    operations = [
        migrations.AlterField(
            model_name="lookuprecord", name="officer",
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True,
                                    on_delete=models.deletion.DO_NOTHING, related_name="+",
                                    to="accounts.user", verbose_name="officer"),
        ),
        migrations.AlterField(
            model_name="lookuprecord", name="client",
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True,
                                    on_delete=models.deletion.DO_NOTHING, related_name="+",
                                    to="lookups.apiclient", verbose_name="API client"),
        ),
        migrations.RunSQL(DECISION_OFFICER, reverse_sql="DROP FUNCTION IF EXISTS lookups_decision_officer"),
        migrations.RunSQL(QUOTA_CONSUME,
                          reverse_sql=_previous("0008_quota_counters_in_postgresql_only", "QUOTA_CONSUME")),
    ]
