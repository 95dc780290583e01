"""What the incidents app does: the incident record and its timeline (records), containment of an
account or a unit subtree and its lifting (containment), and the deadline rules (rules). Every flow
is written once here and called by the views, the management commands and the jobs."""
