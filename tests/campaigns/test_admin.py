"""The campaign admin pages through Django's test client: campaigns imported through the service,
lifecycle buttons, refusals as messages, and a finished run's counts and transition rows."""

import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from audiences import populations
from campaigns import definitions, services
from campaigns.models import (
    Activity,
    ActivityRun,
    Campaign,
    CampaignStatus,
    HumanTask,
    Run,
    RunStatus,
    Transition,
    Version,
)
from tests.campaigns.conftest import final_run

pytestmark = [pytest.mark.django_db(transaction=True)]


def document(schema, name="Admin promo"):
    return {
        "name": name,
        "activities": [
            {
                "id": "aud",
                "type": "build_audience",
                "schema": schema.name,
                "where": {"field": "country", "op": "eq", "value": "FR"},
            },
            {
                "id": "check",
                "type": "test",
                "conditions": [{"name": "big", "when": {"field": "count", "op": "gt", "value": 5}}],
            },
            {"id": "done", "type": "end"},
            {"id": "small", "type": "end"},
        ],
        "transitions": [
            {"from": "aud", "to": "check"},
            {"from": "check", "port": "big", "to": "done"},
            {"from": "check", "port": "default", "to": "small"},
        ],
    }


@pytest.fixture
def campaign(schema, staff_user):
    return services.create_from_definition(document=document(schema), user=staff_user)


@pytest.fixture
def client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def redis_clean(engine):
    """Test runs enqueue their first steps in Redis; the engine fixture flushes them after."""
    return engine


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def change_url(campaign):
    return reverse("admin:campaigns_campaign_change", args=[campaign.pk])


def lifecycle(client, campaign, action):
    url = reverse("admin:campaigns_campaign_lifecycle", args=[campaign.pk, action])
    return client.post(url, follow=True)


def canvas_config(text):
    """The config the page gives its canvas (``campaigns.admin_canvas.config``)."""
    found = re.search(
        r'<script id="campaign-canvas-[^"]*" type="application/json">(.*?)</script>', text, re.S
    )
    assert found, "no canvas on the page"
    return json.loads(found.group(1))


def carried(text, source, port):
    """The count the page's canvas shows on the transition leaving ``source`` by ``port``."""
    run = canvas_config(text)["run"]
    return next(t["count"] for t in run["transitions"] if (t["from"], t["port"]) == (source, port))


def test_changelist_and_change_page_render(client, campaign):
    response = client.get(reverse("admin:campaigns_campaign_changelist"))
    assert response.status_code == 200
    assert "Admin promo" in response.text
    response = client.get(change_url(campaign))
    assert response.status_code == 200
    config = canvas_config(response.text)
    assert config["editable"] and "check" in [a["id"] for a in config["definition"]["activities"]]
    assert "campaigns/vendor/elkjs/elk.bundled.js" in response.text
    assert "Chooses one branch" in response.text  # the test kind's help text beside it
    assert "big, default" in response.text  # its ports, from its conditions
    assert "Valid." in response.text
    assert 'class="activity-kinds"' in response.text
    assert "options…</a>" in response.text  # each activity links to its own form
    assert 'name="transitions-0-port"' in response.text  # a draft is editable
    for label in ("Publish", "Duplicate", "Archive"):
        assert f">{label}</button>" in response.text
    assert config["canTestRun"]  # the canvas's Test run, with its form of the variables
    for label in ("Pause", "Resume", "Revise"):  # not for a draft
        assert f">{label}</button>" not in response.text
    box = re.search(r'<textarea name="frequency_cap"[^>]*>(.*?)</textarea>', response.text, re.S)
    assert box and box.group(1).strip() == ""  # no cap: an empty box, not "null"


def test_add_page_creates_a_draft_owned_by_its_author(client, staff_user):
    url = reverse("admin:campaigns_campaign_add")
    assert client.get(url).status_code == 200
    data = {
        "name": "Fresh",
        "description": "",
        "schedule": "{}",
        "error_policy": "{}",
        "variables": "[]",
        **{f"{p}-{k}": v for p in ("activities", "transitions") for k, v in MANAGEMENT.items()},
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    fresh = Campaign.objects.get(name="Fresh")
    assert (fresh.status, fresh.owner) == (CampaignStatus.DRAFT, staff_user)


MANAGEMENT = {
    "TOTAL_FORMS": "0",
    "INITIAL_FORMS": "0",
    "MIN_NUM_FORMS": "0",
    "MAX_NUM_FORMS": "1000",
}


def test_campaign_fields_are_checked_by_the_definition_parser(client, campaign):
    data = _form_data(client.get(change_url(campaign)))
    data.update({"schedule": "[1]", "variables": '[{"name": "x", "type": "colour"}]'})
    response = client.post(change_url(campaign), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["schedule"] == ["schedule: must be an object"]
    assert errors["variables"][0].startswith("variables[0].type")
    campaign.refresh_from_db()
    assert isinstance(campaign.schedule, dict)


def test_validation_errors_are_shown_beside_their_activity(client, campaign):
    Transition.objects.filter(campaign=campaign, target__key="small").delete()
    response = client.get(change_url(campaign))
    assert response.status_code == 200
    assert "has validation errors" in " ".join(messages_of(response))
    panel = response.text.split('class="campaign-validation errorlist"')[1].split("</ul></li>")[0]
    assert "<strong>small</strong>" in panel
    assert "missing input" in panel


def test_publish_through_the_admin_changes_the_status(client, campaign, redis_clean):
    response = lifecycle(client, campaign, "publish")
    assert response.status_code == 200
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.LIVE
    assert any("now live" in m for m in messages_of(response))
    assert campaign.runs.filter(test=False).count() == 1
    page = client.get(change_url(campaign))  # a published campaign is read-only
    assert page.status_code == 200
    assert 'name="transitions-0-port"' not in page.text
    assert 'name="name"' not in page.text
    assert ">Revise</button>" in page.text and ">Publish</button>" not in page.text


def test_conflicting_action_is_a_message_not_a_500(client, campaign):
    response = lifecycle(client, campaign, "resume")
    assert response.status_code == 200
    assert any("cannot resume a campaign that is draft" in m for m in messages_of(response))
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_an_action_without_its_permission_is_a_message(campaign, client, django_user_model):
    from django.contrib.auth.models import Permission

    editor = django_user_model.objects.create_user("editor", password="pw", is_staff=True)
    editor.user_permissions.set(
        Permission.objects.filter(codename__in=["view_campaign", "change_campaign"])
    )
    client.force_login(editor)
    response = lifecycle(client, campaign, "publish")
    assert response.status_code == 200
    assert any("Publishing needs campaigns.publish_campaign" in m for m in messages_of(response))
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_invalid_campaign_test_run_lists_its_errors(client, campaign):
    Transition.objects.filter(campaign=campaign, target__key="small").delete()
    response = lifecycle(client, campaign, "test_run")
    assert response.status_code == 200
    assert any("Invalid campaign: End “small”: missing input" in m for m in messages_of(response))
    assert not campaign.runs.exists()


def test_test_run_and_duplicate_buttons(client, campaign, redis_clean):
    response = lifecycle(client, campaign, "test_run")
    run = campaign.runs.get()
    assert run.test
    assert any("test run <a href=" in m and f">{run.pk}</a>" in m for m in messages_of(response))
    response = lifecycle(client, campaign, "duplicate")
    copy = Campaign.objects.get(name="Admin promo (copy)")
    assert response.redirect_chain[-1][0] == change_url(copy)
    assert copy.activities.count() == 4


def test_test_run_variables_from_the_button(client, schema, staff_user, redis_clean):
    doc = document(schema, "With vars")
    doc["variables"] = [{"name": "country", "type": "string", "default": "FR"}]
    doc["activities"][0]["where"] = {"field": "country", "op": "eq", "var": "country"}
    campaign = services.create_from_definition(document=doc, user=staff_user)
    url = reverse("admin:campaigns_campaign_lifecycle", args=[campaign.pk, "test_run"])
    response = client.post(url, {"variables": "{not json"}, follow=True)
    assert any("variables are not JSON" in m for m in messages_of(response))
    response = client.post(url, {"variables": '{"nope": 1}'}, follow=True)
    assert any("variables › nope: no such variable" in m for m in messages_of(response))
    assert not campaign.runs.exists()
    client.post(url, {"variables": '{"country": "DE"}'})
    assert campaign.runs.get().variables == {"country": "DE"}


def test_bulk_archive_action_reports_each_refusal(client, campaign, schema, staff_user):
    other = services.create_from_definition(document=document(schema, "Other"), user=staff_user)
    Campaign.objects.filter(pk=other.pk).update(status=CampaignStatus.LIVE)
    response = client.post(
        reverse("admin:campaigns_campaign_changelist"),
        {"action": "archive_selected", "_selected_action": [campaign.pk, other.pk]},
        follow=True,
    )
    assert response.status_code == 200
    text = " ".join(messages_of(response))
    assert "Other: cannot archive a campaign that is live" in text
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.ARCHIVED


def activity_url(campaign, key):
    activity = Activity.objects.non_polymorphic().get(campaign=campaign, key=key)
    return reverse("admin:campaigns_activity_change", args=[activity.pk]), activity


def test_activity_page_is_a_form_generated_from_its_option_schema(client, campaign):
    url, activity = activity_url(campaign, "aud")
    page = client.get(url)
    assert page.status_code == 200
    assert '<select name="option_schema"' in page.text  # a reference: the schemas' names
    assert 'class="vLargeTextField rule-editor"' in page.text  # the rule, for the rule builder
    assert 'type="checkbox" name="option_emit_empty"' in page.text
    assert "Selects the records of a schema" in page.text  # the kind's help
    data = {"key": "aud", "label": "", "option_schema": activity.options["schema"]}
    response = client.post(url, {**data, "option_where": "[1]", "option_emit_empty": ""})
    assert response.status_code == 200  # the form again, the error beside the rule
    assert response.context["adminform"].form.errors["option_where"] == ["where: must be an object"]
    rule = json.dumps({"field": "points", "op": "gt", "value": 1})
    response = client.post(url, {**data, "label": "Big spenders", "option_where": rule})
    assert response.status_code == 302
    assert response["Location"] == change_url(campaign)
    saved = Activity.objects.get(pk=activity.pk)  # saved in place through the service
    assert (saved.label, saved.options["where"]["field"]) == ("Big spenders", "points")


def test_adding_and_deleting_activities_from_the_campaign_page(client, campaign):
    page = client.get(change_url(campaign))
    add = reverse("admin:campaigns_activity_add")
    assert f'{add}?campaign={campaign.pk}&amp;type=alert"' in page.text  # the add menu
    url = f"{add}?campaign={campaign.pk}&type=end"
    form = client.get(url)
    assert form.status_code == 200
    assert "Ends a branch" in form.text  # the kind's help on the page
    response = client.post(url, {"key": "extra_end", "label": "", "option_signal": ""})
    assert response.status_code == 302, response.context["adminform"].form.errors
    url = f"{add}?campaign={campaign.pk}&type=alert"
    response = client.post(
        url,
        {"key": "tell", "label": "", "option_users": '["staff"]', "option_groups": "[]",
         "option_subject": "Hi", "option_message": ""},
    )  # fmt: skip
    assert response.status_code == 302, response.context["adminform"].form.errors
    added = {a.key: a for a in Activity.objects.non_polymorphic().filter(campaign=campaign)}
    assert (added["extra_end"].type, added["tell"].type) == ("end", "alert")
    assert added["tell"].options["users"] == ["staff"]
    grouped = client.get(change_url(campaign)).text.split('class="campaign-validation errorlist"')[
        1
    ]
    assert "<strong>extra_end</strong>" in grouped  # no input yet
    duplicate = client.post(url, {"key": "tell", "option_subject": "Again"})
    assert "duplicate id" in duplicate.text  # the whole definition is parsed, as a PUT would


def _form_data(response):
    """The change form's current values, as the browser would post them back."""
    data = {}
    for form in [response.context["adminform"].form] + [
        f for fs in response.context["inline_admin_formsets"] for f in [fs.formset]
    ]:
        if hasattr(form, "management_form"):
            for field in form.management_form:
                data[field.html_name] = field.value()
            for sub in form.forms:
                data.update(_fields(sub))
        else:
            data.update(_fields(form))
    return {k: v for k, v in data.items() if v is not None}


def _fields(form):
    out = {}
    for field in form:
        value = field.value()
        if isinstance(value, dict | list):
            value = json.dumps(value)
        out[field.html_name] = "" if value is None else value
    return out


@pytest.fixture
def finished_run(campaign, schema):
    """A succeeded test run built in the database: aud -> check(big) -> done; small skipped."""
    definition = definitions.export(campaign)
    version = Version.objects.create(campaign=campaign, definition=definition)
    now = timezone.now()
    run = Run.objects.create(
        campaign=campaign,
        version=version,
        test=True,
        status=RunStatus.SUCCEEDED,
        started_at=now,
        finished_at=now,
    )
    french = populations.from_rule(
        schema=schema, where={"field": "country", "op": "eq", "value": "FR"}
    )
    ActivityRun.objects.create(
        run=run,
        key="aud",
        type="build_audience",
        status="succeeded",
        attempt=1,
        outputs={"out": french.pk, "empty": None},
        counts={"out": french.count, "empty": None},
        started_at=now,
        finished_at=now,
    )
    ActivityRun.objects.create(
        run=run,
        key="check",
        type="test",
        status="succeeded",
        attempt=2,
        outputs={"big": french.pk, "default": None},
        counts={"big": french.count, "default": None},
        error="first attempt lost",
        traceback="Traceback (most recent call last):\n  boom",
    )
    ActivityRun.objects.create(run=run, key="done", type="end", status="succeeded", attempt=1)
    ActivityRun.objects.create(run=run, key="small", type="end", status="skipped")
    return run


def test_run_page_shows_activities_and_transition_counts(client, finished_run):
    response = client.get(reverse("admin:campaigns_run_changelist"))
    assert response.status_code == 200
    response = client.get(reverse("admin:campaigns_run_change", args=[finished_run.pk]))
    assert response.status_code == 200
    text = response.text
    assert "<details><summary>traceback</summary><pre>Traceback" in text
    assert '<tr class="transition"><td>aud</td><td>out</td><td>check</td><td>15</td>' in text
    assert '<tr class="transition"><td>check</td><td>default</td><td>small</td><td>-</td>' in text
    assert carried(text, "aud", "out") == 15  # the canvas's edge label
    records = reverse("admin:campaigns_run_records", args=[finished_run.pk, "check", "big"])
    assert records in text
    campaign_page = client.get(change_url(finished_run.campaign))
    assert f"run {finished_run.pk}</a>" in campaign_page.text
    assert carried(campaign_page.text, "check", "big") == 15


def test_records_view_shows_the_first_rows_with_their_columns(client, finished_run):
    url = reverse("admin:campaigns_run_records", args=[finished_run.pk, "aud", "out"])
    response = client.get(url)
    assert response.status_code == 200
    assert response.context["headers"] == ["key", "email", "country", "points"]
    rows = response.context["rows"]
    assert len(rows) == 15
    assert rows[0] == ["c1", "c1@example.com", "FR", 100]
    assert "15 record(s)" in response.text
    empty = reverse("admin:campaigns_run_records", args=[finished_run.pk, "check", "default"])
    assert "carried nothing" in client.get(empty).text


def test_task_admin_approves_through_the_service(client, finished_run):
    task = HumanTask.objects.create(title="Go?", run=finished_run)
    response = client.post(
        reverse("admin:campaigns_humantask_changelist"),
        {"action": "approve_selected", "_selected_action": [task.pk]},
        follow=True,
    )
    assert response.status_code == 200
    task.refresh_from_db()
    assert (task.status, task.decision) == ("done", "approved")
    response = client.post(
        reverse("admin:campaigns_humantask_changelist"),
        {"action": "reject_selected", "_selected_action": [task.pk]},
        follow=True,
    )
    assert any("cannot decide a task that is done" in m for m in messages_of(response))


def test_run_page_stop_button_stops_a_going_run_and_refuses_a_finished_one(client, finished_run):
    page = client.get(reverse("admin:campaigns_run_change", args=[finished_run.pk]))
    assert ">Stop run</button>" not in page.text
    stop = reverse("admin:campaigns_run_stop", args=[finished_run.pk])
    response = client.post(stop, follow=True)
    assert any("cannot stop a run that is succeeded" in m for m in messages_of(response))
    Run.objects.filter(pk=finished_run.pk).update(status=RunStatus.WAITING)
    page = client.get(reverse("admin:campaigns_run_change", args=[finished_run.pk]))
    assert ">Stop run</button>" in page.text
    response = client.post(stop, follow=True)
    assert any(f"Run {finished_run.pk} stopped." in m for m in messages_of(response))
    finished_run.refresh_from_db()
    assert finished_run.status == RunStatus.STOPPED


@pytest.mark.workers
@pytest.mark.timeout(120)
def test_a_test_run_started_from_the_admin_shows_its_real_counts(client, campaign, engine):
    engine.worker()
    engine.tick()
    lifecycle(client, campaign, "test_run")
    run = final_run(campaign.runs.get())
    assert run.status == RunStatus.SUCCEEDED
    text = client.get(reverse("admin:campaigns_run_change", args=[run.pk])).text
    assert '<tr class="transition"><td>aud</td><td>out</td><td>check</td><td>15</td>' in text
    assert '<tr class="transition"><td>check</td><td>big</td><td>done</td><td>15</td>' in text
    assert '<tr class="transition"><td>check</td><td>default</td><td>small</td><td>-</td>' in text
    records = client.get(reverse("admin:campaigns_run_records", args=[run.pk, "check", "big"]))
    assert [row[0] for row in records.context["rows"]][:3] == ["c1", "c10", "c11"]
    assert carried(client.get(change_url(campaign)).text, "check", "big") == 15


def test_task_page_decides_with_a_comment(client, finished_run):
    task = HumanTask.objects.create(title="Go?", run=finished_run)
    page = client.get(reverse("admin:campaigns_humantask_change", args=[task.pk]))
    assert page.status_code == 200
    assert 'value="reject"' in page.text
    decide = reverse("admin:campaigns_humantask_decide", args=[task.pk])
    response = client.post(decide, {"decision": "reject", "comment": "too early"}, follow=True)
    assert any(f"Task {task.pk} rejected." in m for m in messages_of(response))
    task.refresh_from_db()
    assert (task.status, task.decision, task.comment) == ("done", "rejected", "too early")
    assert 'value="reject"' not in response.text  # decided: no buttons any more


def test_an_activity_of_an_unregistered_kind_is_reported_not_a_500(client, campaign):
    Activity.objects.filter(campaign=campaign, key="small").update(type="gone_plugin")
    response = client.get(change_url(campaign))
    assert response.status_code == 200
    assert "unknown activity type &#x27;gone_plugin&#x27;" in response.text
