"""The decision's facts also answer incident containment (README, "Where a decision's time goes"):
whether the officer's unit or a unit above it is contained — the rule of accounts.permissions.
account_contained (a contained unit's path is a prefix of the unit's materialised path), which read
every contained unit in a statement of its own on each decision. Here it is one probe of the partial
index of contained units (accounts 0014, usually empty) inside the statement the decision sends anyway.
The function gains a parameter (the unit's path) and a column (f_unit_contained), so the old one is
dropped first."""
from django.db import migrations

DECISION_FACTS = r"""
DROP FUNCTION IF EXISTS lookups_decision_facts(bigint, text, bigint, text, timestamptz, date, text, text, text,
                                               timestamptz, text, text[]);
CREATE FUNCTION lookups_decision_facts(
    p_officer bigint, p_username text, p_unit bigint, p_role text, p_cool_off timestamptz, p_day date,
    p_dossier text, p_citizen text, p_allow text, p_since timestamptz, p_disable text, p_states text[],
    p_unit_path text)
RETURNS TABLE (f_failures bigint, f_latest_failure timestamptz, f_overrides text, f_holiday boolean,
               f_dossier_citizens bigint, f_citizen_seen boolean, f_citizen_officers bigint,
               f_officer_seen boolean, f_disable_request bigint, f_unit_contained boolean)
LANGUAGE plpgsql STABLE AS $$
BEGIN
  -- Four scans: django-axes' rows of the username, the dossier's allowed records, the citizen's
  -- allowed records (each answering its count and "seen" at once), the open turnover lines; and the
  -- contained units whose path starts the unit's (the unit itself or one above it).
  RETURN QUERY
  SELECT
    failures.total, failures.latest,
    (SELECT coalesce(json_agg(json_build_array(o.unit_id, o.role, o."window", o."limit", o.shadow)), '[]')::text
       FROM lookups_quotaoverride o
      WHERE (o.unit_id = p_unit AND (o.role = p_role OR o.role = '')) OR (o.unit_id IS NULL AND o.role = p_role)),
    EXISTS (SELECT 1 FROM accounts_holiday h WHERE h.date = p_day),
    dossier.citizens, dossier.seen, citizen.officers, citizen.seen,
    (SELECT line.request_id FROM accounts_turnoverline line
       JOIN accounts_turnoverrequest request ON request.id = line.request_id
      WHERE line.account_id = p_officer AND line.action = p_disable AND request.state = ANY (p_states)
      ORDER BY line.request_id LIMIT 1),
    EXISTS (SELECT 1 FROM accounts_unit c WHERE c.contained_at IS NOT NULL AND starts_with(p_unit_path, c.path))
  FROM
    (SELECT sum(a.failures_since_start)::bigint AS total, max(a.attempt_time) AS latest
       FROM axes_accessattempt a WHERE a.username = p_username AND a.attempt_time >= p_cool_off) failures,
    (SELECT count(DISTINCT r.citizen_id_hash) AS citizens, coalesce(bool_or(r.citizen_id_hash = p_citizen), false) AS seen
       FROM lookups_lookuprecord r
      WHERE r.dossier_code = p_dossier AND r.decision = p_allow AND r.decided_at >= p_since) dossier,
    (SELECT count(DISTINCT r.officer_id) AS officers, coalesce(bool_or(r.officer_id = p_officer), false) AS seen
       FROM lookups_lookuprecord r
      WHERE r.citizen_id_hash = p_citizen AND r.decision = p_allow AND r.decided_at >= p_since) citizen;
END
$$;
"""

# Backwards: this function dropped, migration 0010's created again (without the containment column).
PREVIOUS = r"""
DROP FUNCTION IF EXISTS lookups_decision_facts(bigint, text, bigint, text, timestamptz, date, text, text, text,
                                               timestamptz, text, text[], text);
"""


def _previous_sql():
    from importlib import import_module

    return import_module("lookups.migrations.0010_decision_facts_function").DECISION_FACTS


class Migration(migrations.Migration):

    dependencies = [
        ("lookups", "0010_decision_facts_function"),
        ("accounts", "0014_containment"),
    ]

    operations = [
        migrations.RunSQL(DECISION_FACTS, reverse_sql=PREVIOUS + _previous_sql()),
    ]
