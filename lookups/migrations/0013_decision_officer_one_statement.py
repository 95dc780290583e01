"""A lookup decision's two statements made cheaper for PostgreSQL (README, "Where a decision's time
goes", issue 23): the officer's in one query, its record scans held to the partitions they can find
rows in, and the record written from typed arguments.

- `lookups_decision_officer` used to call `lookups_decision_facts` (migrations 0010, 0011) as a
  set-returning function beside the account: a second PL/pgSQL call, whose RETURN QUERY ran its own
  plan and handed its one row over through a tuple store, on every decision. The facts' subqueries
  are now part of the officer's own query (LATERAL where they need the account), and the facts
  function, read by nothing else, is dropped.
- The two scans of the record table (the dossier's allowed records, the citizen's) had a lower bound
  only, `decided_at >= since`. The table is partitioned by month and its partitions are made months
  ahead (audit/partitions.py, AUDIT_PARTITIONS_AHEAD), so every decision opened, locked and searched
  the indexes of every future partition too — empty, but each one's index scan set up and run: 8
  index scans where 2 can hold a row (4 while the window reaches back into the month before). The window is now
  `since <= decided_at <= now`, which PostgreSQL prunes to those partitions when the statement
  starts. A record decided after `now` comes from a clock ahead of this one; it was never "before this
  lookup", which is what the facts count.

- `lookups_decision_write` took the record's columns as one jsonb and read them back with
  `jsonb_populate_record` — once for the record, once more for each anomaly flag's copy of them. Each
  call parsed the JSON text and looked up the input function of every column of the table's type
  again (its cache lives for one execution only). The columns are now the function's own typed
  arguments, and the Python side no longer serialises them.

Measured alone, each statement sent from one client in rounds of 300–500 calls alternating with the
other variant, PostgreSQL's CPU read from /proc/PID/schedstat of its backend: the officer's call
215 µs before, 187 µs with the facts inlined, 150 µs with the window bounded too; the write (its
commit included) 333 → 320 µs without a flag, 384 → 333 µs with one (on a Sunday every lookup is
flagged "outside office hours").
"""
from django.db import migrations

DECISION_OFFICER = r"""
CREATE OR REPLACE FUNCTION lookups_decision_officer(
    p_username text, p_policy_id bigint, p_now timestamptz, p_lockout_minutes integer, p_day date,
    p_dossier text, p_citizen text, p_allow text, p_since timestamptz, p_disable text, p_states text[])
RETURNS text LANGUAGE plpgsql STABLE AS $$
-- [the account, its unit, the policy record, then ten facts] as JSON text, or NULL when no account has
-- this username (exactly: the caller folds it). Each row is its table's whole row (row_to_json: every
-- column there is, named), but the account's password hash, which a decision never reads; the policy
-- is null when the database has no record. The facts, in order (lookups/selectors.py reads them so):
-- django-axes' failures of the username in the cool-off window (their sum and latest time), the quota
-- overrides that may apply to the account (JSON), whether p_day is a holiday, the dossier's allowed
-- records' distinct citizens and whether p_citizen is among them, the citizen's allowed records'
-- distinct officers and whether the account is among them (both in [p_since, p_now]), the first open
-- turnover request disabling the account, whether its unit or a unit above it is contained.
DECLARE
  v_found text;
BEGIN
  SELECT json_build_array(
           to_jsonb(u) - 'password', row_to_json(n), row_to_json(p),
           failures.total, failures.latest,
           (SELECT coalesce(json_agg(json_build_array(o.unit_id, o.role, o."window", o."limit", o.shadow)), '[]')::text
              FROM lookups_quotaoverride o
             WHERE (o.unit_id = u.unit_id AND (o.role = u.role OR o.role = ''))
                OR (o.unit_id IS NULL AND o.role = u.role)),
           EXISTS (SELECT 1 FROM accounts_holiday h WHERE h.date = p_day),
           dossier.citizens, dossier.seen, citizen.officers, citizen.seen,
           (SELECT line.request_id FROM accounts_turnoverline line
              JOIN accounts_turnoverrequest request ON request.id = line.request_id
             WHERE line.account_id = u.id AND line.action = p_disable AND request.state = ANY (p_states)
             ORDER BY line.request_id LIMIT 1),
           EXISTS (SELECT 1 FROM accounts_unit c WHERE c.contained_at IS NOT NULL AND starts_with(n.path, c.path))
         )::text
    INTO v_found
    FROM accounts_user u
    JOIN accounts_unit n ON n.id = u.unit_id
    LEFT JOIN policy_passwordpolicy p ON p.id = p_policy_id
   CROSS JOIN LATERAL (
         SELECT sum(a.failures_since_start)::bigint AS total, max(a.attempt_time) AS latest
           FROM axes_accessattempt a
          WHERE a.username = u.username
            AND a.attempt_time >= p_now - make_interval(mins => coalesce(p.lockout_minutes, p_lockout_minutes))
         ) failures
   CROSS JOIN LATERAL (
         SELECT count(DISTINCT r.citizen_id_hash) AS citizens,
                coalesce(bool_or(r.citizen_id_hash = p_citizen), false) AS seen
           FROM lookups_lookuprecord r
          WHERE r.dossier_code = p_dossier AND r.decision = p_allow
            AND r.decided_at >= p_since AND r.decided_at <= p_now
         ) dossier
   CROSS JOIN LATERAL (
         SELECT count(DISTINCT r.officer_id) AS officers, coalesce(bool_or(r.officer_id = u.id), false) AS seen
           FROM lookups_lookuprecord r
          WHERE r.citizen_id_hash = p_citizen AND r.decision = p_allow
            AND r.decided_at >= p_since AND r.decided_at <= p_now
         ) citizen
   WHERE u.username = p_username;
  RETURN v_found;
END
$$;
DROP FUNCTION lookups_decision_facts(bigint, text, bigint, text, timestamptz, date, text, text, text, timestamptz,
                                     text, text[], text);
"""

DECISION_WRITE = r"""
DROP FUNCTION lookups_decision_write(bigint, bigint, timestamptz, integer[], jsonb, jsonb, text, integer[], text,
                                     integer[]);
CREATE OR REPLACE FUNCTION lookups_decision_write(
    p_officer bigint, p_unit bigint, p_now timestamptz, p_limits integer[],
    p_username text, p_unit_code text, p_client bigint, p_dossier text, p_purpose text,
    p_citizen_hash text, p_citizen_masked text, p_ip inet, p_request_id text,
    p_flags jsonb, p_near_kind text, p_near integer[], p_shadow_kind text, p_shadow integer[])
RETURNS bigint[] LANGUAGE plpgsql AS $$
-- Returns {1 allowed | 0 refused, count 1, …, count 4, the record's id}.
-- p_now: the decision's time (its windows, its record's decided_at). p_limits: the four windows' limits
-- (lookups_quota_consume). p_username … p_request_id: the record's other columns (its officer and unit
-- are p_officer and p_unit; its decision and reason are what the count answers).
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
  VALUES (p_now, p_officer, p_username, p_unit, p_unit_code, p_client, p_dossier, p_purpose,
          CASE WHEN v_allowed THEN 'allow' ELSE 'refuse' END, v_reason, p_citizen_hash, p_citizen_masked, p_ip,
          p_request_id)
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
      SELECT v_id, p_now, f.value ->> 'kind', p_officer, p_username, p_unit, p_unit_code, f.value -> 'details', ''
        FROM jsonb_array_elements(v_flags) f;
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
        ("lookups", "0012_decision_cost"),
    ]

    operations = [
        migrations.RunSQL(
            DECISION_OFFICER,
            # Back: the facts function as 0011 made it, then 0012's officer function that calls it.
            reverse_sql=(_previous("0011_decision_facts_containment", "DECISION_FACTS")
                         + _previous("0012_decision_cost", "DECISION_OFFICER"))),
        migrations.RunSQL(
            DECISION_WRITE,
            reverse_sql=("DROP FUNCTION lookups_decision_write(bigint, bigint, timestamptz, integer[], text, text, "
                         "bigint, text, text, text, text, inet, text, jsonb, text, integer[], text, integer[]);"
                         + _previous("0012_decision_cost", "DECISION_WRITE"))),
    ]
