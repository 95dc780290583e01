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
  officer or unit, or after the prune). It takes the officer, the unit and the time and names the four
  windows itself (as lookups/quotas.py's window_bounds and _subject_key do, which a test holds it to)
  instead of receiving twelve keys and times: ≈ 0.06 ms of the web worker's CPU per decision spent
  building and quoting them, and the statement's text PostgreSQL parsed, shorter.
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
DROP FUNCTION IF EXISTS lookups_quota_consume(bigint, text[], timestamptz[], timestamptz[], integer[]);
CREATE OR REPLACE FUNCTION lookups_quota_consume(
    p_officer bigint, p_unit bigint, p_now timestamptz, p_limits integer[])
RETURNS integer[] LANGUAGE plpgsql AS $$
-- The four windows at p_now — officer/minute, officer/day, unit/minute, unit/day, as lookups/quotas.py
-- names them (WINDOWS, _subject_key, window_bounds): the clock minute, the calendar day in Vietnam.
-- p_limits in that order. Returns {1 allowed | 0 refused, count 1, …, count 4}: the windows' counts
-- after the decision (as before it when refused). A row of an older window counts as 0 and starts the
-- new window; a row of a newer window (a caller whose clock is behind) keeps its window.
DECLARE
  v_local date := (p_now AT TIME ZONE 'Asia/Ho_Chi_Minh')::date;
  v_minute timestamptz := date_trunc('minute', p_now, 'UTC');
  v_day timestamptz := v_local::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh';
  v_keys text[] := ARRAY['officer:' || p_officer || ':minute', 'officer:' || p_officer || ':day',
                         'unit:' || p_unit || ':minute', 'unit:' || p_unit || ':day'];
  v_starts timestamptz[] := ARRAY[v_minute, v_day, v_minute, v_day];
  v_ends timestamptz[] := ARRAY[v_minute + interval '1 minute', (v_local + 1)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh',
                                v_minute + interval '1 minute', (v_local + 1)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh'];
  v_counts integer[] := ARRAY[0, 0, 0, 0];
  v_i integer;
  v_pass integer;
  v_count integer;
  v_refused boolean := false;
BEGIN
  -- The rows are updated one by one in key order ("officer:…" before "unit:…", ":day" before
  -- ":minute"), so that two decisions sharing a unit's rows take their locks in the same order (no
  -- deadlock).
  FOREACH v_i IN ARRAY ARRAY[2, 1, 4, 3] LOOP
    -- Count first: the UPDATE takes the row's lock (waiting for a decision that holds it, then counting
    -- on from what that one committed). Only when the row is missing (the first lookup of an officer or
    -- unit, or after the prune) insert it and count again: a statement of its own, so that under READ
    -- COMMITTED it sees the row a concurrent first lookup committed (the insert waits for that one).
    FOR v_pass IN 1..3 LOOP
      UPDATE lookups_quotacounter c
         SET count = CASE WHEN c.window_start >= v_starts[v_i] THEN c.count + 1 ELSE 1 END,
             unit_id = p_unit,
             window_start = greatest(c.window_start, v_starts[v_i]),
             window_end = CASE WHEN c.window_start > v_starts[v_i] THEN c.window_end ELSE v_ends[v_i] END
       WHERE c.key = v_keys[v_i]
      RETURNING c.count INTO v_count;
      EXIT WHEN FOUND;
      IF v_pass = 3 THEN  -- inserted and still missing (deleted meanwhile): refuse rather than count short
        RAISE EXCEPTION 'lookups_quota_consume: counter % missing after inserting it', v_keys[v_i];
      END IF;
      INSERT INTO lookups_quotacounter (unit_id, key, window_start, window_end, count)
      VALUES (p_unit, v_keys[v_i], v_starts[v_i], v_ends[v_i], 0)
      ON CONFLICT (key) DO NOTHING;
    END LOOP;
    v_counts[v_i] := v_count;
    v_refused := v_refused OR v_count > p_limits[v_i];
  END LOOP;
  IF v_refused THEN
    -- All or nothing: take the counts back, under the locks still held (nobody saw them). A window
    -- started by this decision is left started with 0, which counts as its older window did.
    UPDATE lookups_quotacounter c SET count = c.count - 1 WHERE c.key = ANY (v_keys);
    RETURN 0 || ARRAY[v_counts[1] - 1, v_counts[2] - 1, v_counts[3] - 1, v_counts[4] - 1];
  END IF;
  RETURN 1 || v_counts;
END
$$;
"""

DECISION_WRITE = r"""
DROP FUNCTION IF EXISTS lookups_decision_write(bigint, text[], timestamptz[], timestamptz[], integer[], jsonb, jsonb,
                                                text, integer[], text, integer[]);
CREATE OR REPLACE FUNCTION lookups_decision_write(
    p_officer bigint, p_unit bigint, p_now timestamptz, p_limits integer[],
    p_record jsonb, p_flags jsonb, p_near_kind text, p_near integer[], p_shadow_kind text, p_shadow integer[])
RETURNS bigint[] LANGUAGE plpgsql AS $$
-- Returns {1 allowed | 0 refused, count 1, …, count 4, the record's id}.
-- p_now: the decision's time (its windows, its record's decided_at). p_limits: the four windows' limits
-- (lookups_quota_consume). p_record: the record's other columns but decision and reason
-- (jsonb_populate_record of the table's type).
-- p_flags: [{"kind", "details"}] to insert when allowed. p_near: the officer's day and minute counts
-- that are "near the quota" (0: none), the day first; p_shadow: the shadow limits of the four windows
-- (0: none), the first one passed is flagged.
DECLARE
  v_counts integer[];
  v_allowed boolean;
  v_reason text := '';
  v_id bigint;
  v_flags jsonb := coalesce(p_flags, '[]'::jsonb);
  v_names text[] := ARRAY['officer_minute', 'officer_day', 'unit_minute', 'unit_day'];
  v_i integer;
BEGIN
  -- An error here (a lock not granted in time, the table unreadable) fails the whole statement; the
  -- caller tells it by its context (this function's name) and records the refusal as quota_unavailable.
  v_counts := lookups_quota_consume(p_officer, p_unit, p_now, p_limits);
  v_allowed := v_counts[1] = 1;
  IF v_counts[1] = 0 THEN
    -- The binding window: the one that frees last (a day before a minute), officer before unit.
    v_reason := CASE WHEN v_counts[3] + 1 > p_limits[2] THEN 'quota_officer_day'
                     WHEN v_counts[5] + 1 > p_limits[4] THEN 'quota_unit_day'
                     WHEN v_counts[2] + 1 > p_limits[1] THEN 'quota_officer_minute'
                     ELSE 'quota_unit_minute' END;
  END IF;
  INSERT INTO lookups_lookuprecord (decided_at, officer_id, officer_username, unit_id_then, unit_code_then,
      client_id, dossier_code, purpose, decision, reason, citizen_id_hash, citizen_id_masked, ip_address, request_id)
  SELECT p_now, r.officer_id, r.officer_username, r.unit_id_then, r.unit_code_then, r.client_id,
         r.dossier_code, r.purpose, CASE WHEN v_allowed THEN 'allow' ELSE 'refuse' END, v_reason,
         r.citizen_id_hash, r.citizen_id_masked, r.ip_address, r.request_id
    FROM jsonb_populate_record(NULL::lookups_lookuprecord, p_record) r
  RETURNING id INTO v_id;
  IF v_allowed THEN
    IF p_near[1] > 0 AND v_counts[3] = p_near[1] THEN
      v_flags := v_flags || jsonb_build_array(jsonb_build_object('kind', p_near_kind, 'details',
        jsonb_build_object('window', 'officer_day', 'used', v_counts[3], 'limit', p_limits[2])));
    ELSIF p_near[2] > 0 AND v_counts[2] = p_near[2] THEN
      v_flags := v_flags || jsonb_build_array(jsonb_build_object('kind', p_near_kind, 'details',
        jsonb_build_object('window', 'officer_minute', 'used', v_counts[2], 'limit', p_limits[1])));
    END IF;
    FOR v_i IN 1..4 LOOP
      IF p_shadow[v_i] > 0 AND v_counts[v_i + 1] > p_shadow[v_i] THEN
        v_flags := v_flags || jsonb_build_array(jsonb_build_object('kind', p_shadow_kind, 'details',
          jsonb_build_object('window', v_names[v_i], 'used', v_counts[v_i + 1], 'limit', p_shadow[v_i])));
        EXIT;
      END IF;
    END LOOP;
    IF jsonb_array_length(v_flags) > 0 THEN
      INSERT INTO lookups_anomalyflag (lookup_id, decided_at, kind, officer_id, officer_username, unit_id_then,
          unit_code_then, details, review_note)
      SELECT v_id, p_now, f.value ->> 'kind', r.officer_id, r.officer_username, r.unit_id_then,
             r.unit_code_then, f.value -> 'details', ''
        FROM jsonb_array_elements(v_flags) f, jsonb_populate_record(NULL::lookups_lookuprecord, p_record) r;
    END IF;
  END IF;
  RETURN ARRAY[v_counts[1], v_counts[2], v_counts[3], v_counts[4], v_counts[5], v_id];
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
        migrations.RunSQL(
            QUOTA_CONSUME + DECISION_WRITE,
            reverse_sql=("DROP FUNCTION lookups_decision_write(bigint, bigint, timestamptz, integer[], jsonb, jsonb, "
                         "text, integer[], text, integer[]);"
                         "DROP FUNCTION lookups_quota_consume(bigint, bigint, timestamptz, integer[]);"
                         + _previous("0008_quota_counters_in_postgresql_only", "QUOTA_CONSUME")
                         + _previous("0009_decision_write_function", "DECISION_WRITE"))),
    ]
