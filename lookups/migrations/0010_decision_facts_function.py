"""What a lookup decision reads besides the account itself, as a server-side function whose plan
PostgreSQL keeps per connection (README, "Where a decision's time goes": planning the same statement
of subqueries over the partitioned record table cost ~1 ms of PostgreSQL's CPU per decision, three
times running it). `lookups_decision_facts` answers, for one account and one lookup asked for: the
django-axes failures of the username in the cool-off window (the lockout rule's figures), the quota
overrides that may apply to it (JSON), and the anomaly rules' facts before the lookup's own record."""
from django.db import migrations

DECISION_FACTS = r"""
CREATE OR REPLACE FUNCTION lookups_decision_facts(
    p_officer bigint, p_username text, p_unit bigint, p_role text, p_cool_off timestamptz, p_day date,
    p_dossier text, p_citizen text, p_allow text, p_since timestamptz, p_disable text, p_states text[])
RETURNS TABLE (f_failures bigint, f_latest_failure timestamptz, f_overrides text, f_holiday boolean,
               f_dossier_citizens bigint, f_citizen_seen boolean, f_citizen_officers bigint,
               f_officer_seen boolean, f_disable_request bigint)
LANGUAGE plpgsql STABLE AS $$
BEGIN
  -- Four scans: django-axes' rows of the username, the dossier's allowed records, the citizen's
  -- allowed records (each answering its count and "seen" at once), the open turnover lines.
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
      ORDER BY line.request_id LIMIT 1)
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


class Migration(migrations.Migration):

    dependencies = [
        ("lookups", "0009_decision_write_function"),
    ]

    operations = [
        migrations.RunSQL(DECISION_FACTS, reverse_sql="DROP FUNCTION IF EXISTS lookups_decision_facts"),
    ]
