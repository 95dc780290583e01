"""The write of a lookup decision in one statement (README, "Where a decision's time goes"):
`lookups_decision_write` counts the lookup in the quotas (lookups_quota_consume), inserts its record —
allowed, or refused with the binding quota window as its reason — and, when allowed, its anomaly
flags: those the rules in lookups/anomalies.py judged before the quotas were counted, plus the two
rules that depend on the count itself (near the quota, past a quota in shadow mode), applied here to
the thresholds Python computed. One statement is one transaction: the count, the record and the flags
commit together or not at all, with no BEGIN and COMMIT round trips around them. When the quotas cannot
be counted, the statement fails naming lookups_quota_consume in its context, and the caller records the
refusal as `quota_unavailable`."""
from django.db import migrations

DECISION_WRITE = r"""
CREATE OR REPLACE FUNCTION lookups_decision_write(
    p_unit bigint, p_keys text[], p_starts timestamptz[], p_ends timestamptz[], p_limits integer[],
    p_record jsonb, p_flags jsonb, p_near_kind text, p_near integer[], p_shadow_kind text, p_shadow integer[])
RETURNS bigint[] LANGUAGE plpgsql AS $$
-- Returns {1 allowed | 0 refused, count 1, …, count 4, the record's id}.
-- p_record: the record's columns but decision and reason (jsonb_populate_record of the table's type).
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
  v_counts := lookups_quota_consume(p_unit, p_keys, p_starts, p_ends, p_limits);
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
  SELECT r.decided_at, r.officer_id, r.officer_username, r.unit_id_then, r.unit_code_then, r.client_id,
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
      SELECT v_id, r.decided_at, f.value ->> 'kind', r.officer_id, r.officer_username, r.unit_id_then,
             r.unit_code_then, f.value -> 'details', ''
        FROM jsonb_array_elements(v_flags) f, jsonb_populate_record(NULL::lookups_lookuprecord, p_record) r;
    END IF;
  END IF;
  RETURN ARRAY[v_counts[1], v_counts[2], v_counts[3], v_counts[4], v_counts[5], v_id];
END
$$;
"""


class Migration(migrations.Migration):

    dependencies = [
        ("lookups", "0008_quota_counters_in_postgresql_only"),
    ]

    operations = [
        migrations.RunSQL(DECISION_WRITE, reverse_sql="DROP FUNCTION IF EXISTS lookups_decision_write"),
    ]
