"""The officer's statement of a lookup decision in one query, and its record scans held to the
partitions they can find rows in (README, "Where a decision's time goes", issue 23).

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

Measured alone (the officer's call sent 500 times a round, 8 rounds alternating, PostgreSQL's CPU
from /proc/PID/schedstat of its backend): 215 µs before, 187 µs with the facts inlined, 150 µs with
the window bounded too.
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
    ]
