"""Mass assignment (docs/authorization_matrix.md): every form a page shows, submitted as a browser would
(its own fields, as the page filled them) and again with fields it does not declare (a role, a unit,
is_active, is_superuser, a state, an id, created_by…), leaves the database the same: the extra fields
change nothing.

The forms are found by walking the table (tests/authorization_table.py): for each page that an actor may
open (GET 200) and post to (POST 200 or 302), the page's own POST form (action: the page itself) is read
from its HTML. The two submissions run in savepoints rolled back after each."""
from html.parser import HTMLParser

from django.apps import apps
from django.db import models, transaction

from tests.authorization_matrix import url_for
from tests.authorization_table import TABLE
from tests.authorization_world import ACTORS

ALLOWED = {"200", "302"}
PEOPLE = [actor for actor in ACTORS if actor not in ("anonymous", "disabled", "contained")]


def extra_fields(world) -> dict:
    """What an attacker adds to a form: privileges, another unit, a state, ids and owners."""
    admin, outside = world.accounts["it_admin"], world.units["xuan_an"]
    return {"role": "it_admin", "unit": outside.pk, "unit_id": outside.pk, "is_active": "on", "is_superuser": "on",
            "is_staff": "on", "can_lookup": "on", "state": "closed", "id": "999999", "pk": "999999",
            "created_by": admin.pk, "created_by_id": admin.pk, "owner": admin.pk, "reporter": admin.pk,
            "handler": admin.pk, "uploaded_by": admin.pk, "requested_by": admin.pk, "account": admin.pk,
            "officer": admin.pk, "contained_at": "2026-01-01", "password": "Mat-Khau-Moi-2026!",
            "must_change_password": "", "parent": outside.pk, "path": "/", "done_at": "2026-01-01",
            "severity": "critical", "decision": "keep", "ok": "on", "limit": "999999"}


class PostForms(HTMLParser):
    """The POST forms of a page: each form's action and the fields a browser would send (a checked box,
    the selected option, the first named submit button); file inputs are left out."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form = self._select = self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = {"action": attrs.get("action") or "", "method": (attrs.get("method") or "get").lower(),
                          "fields": {}, "submitted": False}
            self.forms.append(self._form)
        elif tag == "option" and self._form is not None and self._select:
            if "selected" in attrs or self._select not in self._form["fields"]:
                self._form["fields"][self._select] = attrs.get("value", "")
        elif self._form is None or not attrs.get("name"):
            return
        elif tag == "input":
            self._input(attrs)
        elif tag == "button" and attrs.get("type", "submit") == "submit" and not self._form["submitted"]:
            self._form["fields"].setdefault(attrs["name"], attrs.get("value", ""))
            self._form["submitted"] = True
        elif tag == "select":
            self._select = attrs["name"]
        elif tag == "textarea":
            self._textarea = attrs["name"]
            self._form["fields"][self._textarea] = ""

    def _input(self, attrs):
        kind = attrs.get("type", "text").lower()
        fields = self._form["fields"]
        if kind in ("checkbox", "radio"):
            if "checked" in attrs:
                fields[attrs["name"]] = attrs.get("value", "on")
        elif kind == "submit":
            if not self._form["submitted"]:
                fields.setdefault(attrs["name"], attrs.get("value", ""))
                self._form["submitted"] = True
        elif kind != "file":
            fields[attrs["name"]] = attrs.get("value", "")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data):
        if self._textarea and self._form is not None:
            self._form["fields"][self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def page_form(html: str, url: str) -> dict | None:
    """The page's own POST form (the one that posts back to the page), with its fields."""
    parser = PostForms()
    parser.feed(html)
    for form in parser.forms:
        if form["method"] == "post" and form["action"].split("?")[0] in ("", url):
            return form["fields"]
    return None


def state_of_the_world(before: dict | None = None) -> dict:
    """Per table of the portal's own apps, its rows without their times (two submissions a moment apart
    stamp different times): a row that was there before by its id, a row the submission made without
    its id and its links (a sequence is not rolled back, so a new row's id differs between the two)."""
    state = {}
    for model in apps.get_models():
        if model._meta.app_label not in ("accounts", "letter", "incidents", "federation", "lookups", "compliance",
                                         "policy", "notifications") or model._meta.db_table == "accounts_accountsession":
            continue
        fields = [field for field in model._meta.concrete_fields
                  if not isinstance(field, models.DateTimeField | models.BinaryField | models.FileField)]
        pk = model._meta.pk.attname
        old = (before or {}).get(model._meta.db_table, {}).get("rows", {})
        rows, made = {}, []
        for values in model.objects.values(*[field.attname for field in fields]):
            if before is None or values[pk] in old:
                rows[values[pk]] = values
            else:
                made.append(repr(sorted((name, value) for name, value in values.items()
                                        if name != pk and not name.endswith("_id"))))
        state[model._meta.db_table] = {"rows": rows, "made": sorted(made)}
    return state


def submitted(client, url, body, before) -> tuple[str, dict]:
    with transaction.atomic():
        response = client.post(url, body)
        state = state_of_the_world(before)
        transaction.set_rollback(True)
    return str(response.status_code), state


def forms_to_try():
    for table_row in TABLE:
        for actor in PEOPLE:
            if table_row.expected["GET", actor, "in"] == "200" and table_row.expected["POST", actor, "in"] in ALLOWED:
                yield table_row, actor


def test_extra_fields_change_nothing(authorization_world, db):
    world = authorization_world
    before = state_of_the_world()
    tried, changed = set(), []
    for table_row, actor in forms_to_try():
        client, url = world.clients[actor], url_for(world, table_row, "in")
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
        if response.streaming or not response["Content-Type"].startswith("text/html"):
            continue  # a download: no form
        fields = page_form(response.content.decode(), url)
        if fields is None:
            continue  # the page posts elsewhere: its actions have rows of their own, walked there
        tried.add(table_row.name)
        extras = {name: value for name, value in extra_fields(world).items() if name not in fields}
        plain_status, plain = submitted(client, url, fields, before)
        padded_status, padded = submitted(client, url, {**fields, **extras}, before)
        tables = sorted(table for table in plain if plain[table] != padded[table])
        if tables or padded_status != plain_status:
            changed.append(f"{table_row.name} as {actor}: {plain_status} then {padded_status}, changed {tables}")
    assert changed == []
    # The walk is not empty: the pages that edit an object, and the forms that make one, were submitted.
    assert {"accounts:edit", "accounts:create", "accounts:unit_rename", "policy:edit", "incidents:edit",
            "incidents:report", "letter:endpoint_edit", "compliance:thresholds"} <= tried, sorted(tried)


def test_the_form_reader_sends_what_a_browser_sends():
    html = """<form action="/i18n/setlang/" method="post"><input name="language" value="en"></form>
    <form method="post"><input name="full_name" value="Lê Văn A"><input type="checkbox" name="can_lookup" checked>
    <input type="checkbox" name="is_leader"><select name="role"><option value="officer">x</option>
    <option value="unit_leader" selected>y</option></select><textarea name="note">Ghi chú</textarea>
    <input type="file" name="letter"><button name="action" value="save">Lưu</button>
    <button name="action" value="delete">Xóa</button></form>"""
    assert page_form(html, "/admin/accounts/1/edit/") == {
        "full_name": "Lê Văn A", "can_lookup": "on", "role": "unit_leader", "note": "Ghi chú", "action": "save"}


def test_the_state_of_the_world_sees_a_field_a_form_does_not_declare(authorization_world, db):
    world = authorization_world
    before = state_of_the_world()
    subject = world.subject("in")
    type(subject).objects.filter(pk=subject.pk).update(role="unit_leader")
    after = state_of_the_world(before)
    assert sorted(table for table in before if before[table] != after[table]) == ["accounts_user"]
