"""Personalization (design 5.5): the sandbox's bounds, autoescaping only in HTML, missing values,
syntax errors and unknown names found on save with their line, at the option's path."""

import pytest

from campaigns import services
from channels import content
from channels.personalize import RenderError, Templates, check
from config.access import SYSTEM
from tests.channels.helpers import document

CONTEXT = {
    "profile": {"first_name": "<Ann & Bob>", "store": {"city": "Paris"}, "points": None},
    "target": {"score": 7},
    "vars": {"code": "SPRING"},
    "campaign": {"id": 1, "name": "Promo"},
    "message": {"unsubscribe_url": "http://x/u/1", "view_url": "http://x/v/1"},
}


def email(**parts):
    return Templates("email", {"subject": "s", "html": "<p>x</p>", **parts})


def test_html_is_autoescaped_and_only_html():
    parts = email(
        subject="Hi {{ profile.first_name }}\r\nBcc: evil@example.com",
        html="<p>{{ profile.first_name }} in {{ profile.store.city }}</p>",
        text="{{ profile.first_name }} {{ vars.code }} {{ target.score }}",
    ).render(CONTEXT)
    assert parts["html"] == "<p>&lt;Ann &amp; Bob&gt; in Paris</p>"
    assert parts["text"] == "<Ann & Bob> SPRING 7"
    assert parts["subject"] == "Hi <Ann & Bob> Bcc: evil@example.com"  # one line: no header


def test_missing_values_render_empty_or_default():
    parts = email(
        subject="{{ profile.nope }}|{{ profile.store.nope.deeper }}|{{ profile.points }}",
        text="{{ profile.points | default('no points', true) }}-{{ target.missing|default('x') }}",
    ).render(CONTEXT)
    assert parts["subject"] == "||None"
    assert parts["text"] == "no points-x"


def test_text_is_generated_from_the_html_and_css_is_inlined():
    parts = email(
        html="<html><head><style>p {color: red}</style>"
        '<link rel="stylesheet" href="http://203.0.113.9/x.css"></head>'
        '<body><p>Hello</p><a href="https://shop.example/x">the shop</a><ul><li>one</li></ul>'
        "</body></html>"
    ).render(CONTEXT)
    assert 'style="color: red' in parts["html"] and "<link" not in parts["html"]
    assert parts["text"] == "Hello\nthe shop (https://shop.example/x)\n\n- one"


def test_json_payloads_render_each_string():
    parts = Templates(
        "push", {"title": "T", "body": "B", "data": {"who": "{{ profile.first_name }}", "n": 3}}
    ).render(CONTEXT)
    assert parts["data"] == {"who": "<Ann & Bob>", "n": 3}


@pytest.mark.parametrize(
    "source",
    [
        "{{ 'x' * 100000000 }}",
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        "{% for i in range(100000) %}{% for j in range(100000) %}xxxxxxxxxx{% endfor %}{% endfor %}",
        "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}"
        "{% endfor %}{{ ns.s }}",
        "{{ 'x'.ljust(100000000) }}",
        "{{ '%100000000s' % 'x' }}",
        "{{ 'x'|center(100000000) }}",
        "{% macro d(s) %}{{ s }}{{ s }}{% endmacro %}"
        "{{ d(d(d(d(d(d(d(d(d(d(d(d(d(d(d(d(d(d(d(d(d(d('xxxx')))))))))))))))))))))) }}",
        "{{ ('x' * 1000000)|replace('x', 'yyyyyyyyyy') }}",
        "{{ 2 ** 100000000 }}",
        "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}",
    ],
)
def test_the_sandbox_is_bounded(source):
    with pytest.raises(RenderError) as raised:
        Templates("sms", {"text": source}).render(CONTEXT)
    assert str(raised.value)


def test_no_template_reaches_python_internals():
    source = "[{{ ''.__class__.__mro__ }}][{{ cycler.__init__.__globals__ }}]"
    assert Templates("sms", {"text": source}).render(CONTEXT) == {"text": "[][]"}


def test_checks_give_the_line_and_the_name():
    assert check("Hi\n{{ profile.name }", path="a.b") == [
        {"path": "a.b", "message": "line 2: unexpected '}'"}
    ]
    found = check(
        "x\n\n{{ customer.name }} {{ vars.nope }}", path="p", variables={"code": "string"}
    )
    assert found == [
        {
            "path": "p",
            "message": "line 3: unknown name 'customer' (use profile, target, vars, campaign or message)",
        },
        {"path": "p", "message": "line 3: no declared variable 'nope'"},
    ]


def test_sms_segments():
    assert content.sms_segments("a" * 160) == {
        "characters": 160,
        "encoding": "GSM-7",
        "segments": 1,
    }
    assert content.sms_segments("a" * 161)["segments"] == 2
    assert content.sms_segments("€" * 80) == {"characters": 160, "encoding": "GSM-7", "segments": 1}
    assert content.sms_segments("é" * 10 + "ş") == {
        "characters": 11,
        "encoding": "UCS-2",
        "segments": 1,
    }
    assert content.sms_segments("ş" * 71)["segments"] == 2


@pytest.mark.django_db(transaction=True)
def test_template_errors_are_found_on_save_at_the_option_path(shop):
    doc = document(shop)
    doc["activities"][1]["html"] = "<p>\n{{ profile.first_name }\n</p>"
    doc["activities"][1]["subject"] = "{{ profile.nope }} {{ target.score }} {{ vars.code }}"
    campaign = services.create_from_definition(document=doc, user=SYSTEM)
    errors = services.validation_errors(campaign)
    assert {"path": "activities[1].html", "message": "line 2: unexpected '}'"} in errors
    assert {
        "path": "activities[1].subject",
        "message": f"line 1: {shop.name} has no attribute or link 'nope'",
    } in errors
    assert {
        "path": "activities[1].subject",
        "message": "line 1: the population has no column 'score'",
    } in errors
    assert not [e for e in errors if "vars" in e["message"] or "code" in e["message"]]
