"""``campaigns/{id}/rule-context/?activity=KEY``: what a rule of that activity is written against,
for the rule builder (design 12, docs/rules.md) of the admin and of the canvas.

The answer ``{"activity", "schema", "targets", "variables"}``: ``schema`` is the schema of the
population flowing into the activity (null when none flows in, or when it is a loaded file's
rows), ``targets`` that population's added columns ``{alias: type}`` (``target.ALIAS`` in rules;
null when nothing flows in), ``variables`` the campaign's declared variables ``{name: {"type",
"default"}}``. Computed from the saved draft with ``campaigns.graph.shapes``; an unknown activity
(one being added) gets the variables and no population.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from campaigns import definitions, graph
from campaigns.models import Campaign


def rule_context(campaign: Campaign, activity: str) -> dict:
    document = definitions.export(campaign)
    variables = {
        v["name"]: {"type": v.get("type"), "default": v.get("default")}
        for v in document["variables"]
        if isinstance(v, dict) and "name" in v
    }
    found = {"activity": activity, "schema": None, "targets": None, "variables": variables}
    keys = {a["id"] for a in document["activities"]}
    inbound = [t for t in document["transitions"] if t["to"] == activity]
    if activity not in keys or not inbound:
        return found
    try:
        shapes = graph.shapes(document)
    except KeyError:  # an activity of a kind no longer registered
        return found
    shape = shapes.get((inbound[0]["from"], inbound[0]["port"]))
    if shape is not None and not shape.is_file:
        found.update(schema=shape.schema, targets=dict(shape.columns))
    return found


class RuleContextView(GenericAPIView):
    """The schema, population columns and variables a rule of one activity is written against."""

    queryset = Campaign.objects.all()

    @extend_schema(
        parameters=[OpenApiParameter("activity", str, description="the activity's id")],
        responses={
            200: {
                "type": "object",
                "properties": {
                    "schema": {"type": "string", "nullable": True},
                    "targets": {
                        "type": "object",
                        "nullable": True,
                        "additionalProperties": {"type": "string"},
                    },
                    "variables": {"type": "object", "additionalProperties": {"type": "string"}},
                },
                "additionalProperties": True,
            }
        },
    )
    def get(self, request, pk):
        campaign = get_object_or_404(Campaign, pk=pk)
        return Response(rule_context(campaign, request.query_params.get("activity", "")))
