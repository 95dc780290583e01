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
  RETURN QUERY
  SELECT
    (SELECT sum(a.failures_since_start)::bigint FROM axes_accessattempt a
      WHERE a.username = p_username AND a.attempt_time >= p_cool_off),
    (SELECT max(a.attempt_time) FROM axes_accessattempt a
      WHERE a.username = p_username AND a.attempt_time >= p_cool_off),
    (SELECT coalesce(json_agg(json_build_array(o.unit_id, o.role, o."window", o."limit", o.shadow)), '[]')::text
       FROM lookups_quotaoverride o
      WHERE (o.unit_id = p_unit AND (o.role = p_role OR o.role = '')) OR (o.unit_id IS NULL AND o.role = p_role)),
    EXISTS (SELECT 1 FROM accounts_holiday h WHERE h.date = p_day),
    (SELECT count(DISTINCT r.citizen_id_hash) FROM lookups_lookuprecord r
      WHERE r.dossier_code = p_dossier AND r.decision = p_allow AND r.decided_at >= p_since),
    EXISTS (SELECT 1 FROM lookups_lookuprecord r
             WHERE r.dossier_code = p_dossier AND r.decision = p_allow AND r.decided_at >= p_since
               AND r.citizen_id_hash = p_citizen),
    (SELECT count(DISTINCT r.officer_id) FROM lookups_lookuprecord r
      WHERE r.citizen_id_hash = p_citizen AND r.decision = p_allow AND r.decided_at >= p_since),
    EXISTS (SELECT 1 FROM lookups_lookuprecord r
             WHERE r.citizen_id_hash = p_citizen AND r.decision = p_allow AND r.decided_at >= p_since
               AND r.officer_id = p_officer),
    (SELECT line.request_id FROM accounts_turnoverline line
       JOIN accounts_turnoverrequest request ON request.id = line.request_id
      WHERE line.account_id = p_officer AND line.action = p_disable AND request.state = ANY (p_states)
      ORDER BY line.request_id LIMIT 1);
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
