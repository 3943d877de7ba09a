"""Error paths in words: activities named by their label or key (``campaigns.words``), in the
validation panel and the refusal messages of the campaign page."""

from campaigns import words
from campaigns.admin import refusal_message
from config.errors import ValidationFailed

DOCUMENT = {
    "activities": [
        {"id": "aud", "type": "build_audience", "where": {"and": [{"field": "x"}, {"field": "y"}]}},
        {"id": "vip", "type": "split", "label": "VIP or not", "subsets": [{"name": "gold"}]},
    ],
    "transitions": [{"from": "aud", "to": "vip"}],
    "variables": [{"name": "country", "type": "string"}],
}


def say(path, **kwargs):
    return words.sentence({"path": path, "message": "wrong"}, DOCUMENT, **kwargs)


def test_paths_in_words():
    assert say("activities[0].where.and[1].field") == (
        "Build audience “aud” › rule › condition 2 › field: wrong"
    )
    assert (
        say("activities[1].subsets[0].where") == "“VIP or not” (vip) › subset “gold” › rule: wrong"
    )
    assert say("activities[1]") == "“VIP or not” (vip): wrong"
    assert say("activities[1]", within_activity=True) == "wrong"
    assert say("activities[0].where.not.field", within_activity=True) == "rule › not › field: wrong"
    assert say("transitions[0].to") == "transition 1 (aud → vip) › to: wrong"
    assert say("variables[0].type") == "variable “country” › type: wrong"
    assert say("schedule.at") == "schedule › at: wrong"
    assert say("activities[7].x") == "activity 8 › x: wrong"
    assert say("") == "wrong"


def test_a_refusal_names_the_activity():
    exc = ValidationFailed([{"path": "activities[1]", "message": "missing input"}])
    exc.document = DOCUMENT
    assert refusal_message(exc) == "Invalid campaign: “VIP or not” (vip): missing input"
    bare = ValidationFailed([{"path": "activities[1]", "message": "missing input"}])
    assert refusal_message(bare) == "Invalid campaign: activity 2: missing input"
