"""How the API documents itself (OpenAPI 3 at ``/api/schema/``, ``DEFAULT_SCHEMA_CLASS``).

Views declare their bodies with drf-spectacular's ``extend_schema``: DRF serializers, or schema
dicts (``request={"application/json": SCHEMA}``, ``responses={200: SCHEMA}``). What every
operation has in common is added here, once:

- **Named components**: ``component("Campaign", schema)`` registers a schema under
  ``#/components/schemas/Campaign`` and returns its ``$ref``; ``components_from(factory)``
  registers a callable returning ``{name: schema}``, called at each generation (the definition
  document's components come from the activity registry, ``campaigns.openapi``).
- **Pages**: ``Page(item)`` as a response is a page of ``item`` in the format of
  ``config.api.pagination``; the operation is then a list (``*_list`` operation id) and gets the
  ``page`` / ``page_size`` parameters with their bounds. Nothing is wrapped by guesswork.
- **Errors** (design 5.0), on every operation unless the view documents the code itself:
  400 ``Errors`` (every operation: any parameter or body may be refused at its path), 401 and
  403 ``Detail``, 404 where the path names an object, 409 where the operation changes an
  existing object (PUT, PATCH, DELETE, POST on a path with parameters). 429 is documented by the
  operations that can answer it, with ``TOO_SOON``.

``add_components`` is the postprocessing hook that writes the components
(``SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]``). ``tests/api/test_real_urls.py`` keeps
``spectacular --validate --fail-on-warn`` clean; ``tests/api/test_schemathesis.py`` checks that
the answers match what is documented.
"""

from collections.abc import Callable

import uritemplate
from drf_spectacular import openapi
from drf_spectacular.plumbing import build_media_type_object
from drf_spectacular.utils import OpenApiResponse

from config.api import pagination

_components: dict[str, dict] = {}
_factories: list[Callable[[], dict]] = []


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def component(name: str, schema: dict) -> dict:
    """Register ``schema`` as the component ``name``; returns its ``$ref``."""
    _components[name] = schema
    return ref(name)


def components_from(factory: Callable[[], dict]) -> None:
    """Register ``factory() -> {name: schema}``, called each time the schema is generated."""
    if factory not in _factories:
        _factories.append(factory)


def all_components() -> dict:
    found = dict(_components)
    for factory in _factories:
        found.update(factory())
    return found


def add_components(result, generator, request, public):
    """drf-spectacular postprocessing hook: the registered components."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(all_components())
    return result


ERROR_LIST = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "path": {
                "type": "string",
                "description": 'Where: "activities[2].where.and[1].field"; "" for the whole '
                "document; a parameter's name.",
            },
            "message": {"type": "string"},
        },
        "required": ["path", "message"],
    },
}
ERRORS = component(
    "Errors",
    {
        "type": "object",
        "description": "A malformed request (design 5.0): every error at its JSON path.",
        "properties": {"errors": ERROR_LIST},
        "required": ["errors"],
    },
)
DETAIL = component(
    "Detail",
    {
        "type": "object",
        "properties": {"detail": {"type": "string", "description": "A sentence for people."}},
        "required": ["detail"],
    },
)
TOO_SOON = OpenApiResponse(
    response=DETAIL,
    description="Too soon after the previous call (the Retry-After header says how long to wait).",
)
ERROR_DESCRIPTIONS = {
    "400": "Malformed input: the errors with their paths.",
    "401": "Not authenticated: send `Authorization: Token <key>` (or use the admin's session).",
    "403": "Not staff, or a permission is missing: the message names it "
    '("Publishing needs campaigns.publish_campaign").',
    "404": "No such object.",
    "409": "The action does not apply in the object's current state (the message says why).",
}
CHANGING = ("PUT", "PATCH", "DELETE")


class Page(dict):
    """A page of ``item`` (a schema dict or ``$ref``) as the API's paginator answers it;
    ``extra`` adds properties beside ``results`` (``columns=...``)."""

    def __init__(self, item: dict, **extra: dict):
        super().__init__(
            type="object",
            properties={
                "count": {"type": "integer", "description": "Results in all pages."},
                "next": {"type": "string", "format": "uri", "nullable": True},
                "previous": {"type": "string", "format": "uri", "nullable": True},
                "results": {"type": "array", "items": item},
                **extra,
            },
            required=["count", "next", "previous", "results"],
        )


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's AutoSchema with pages and error responses (module docstring)."""

    def _main_response(self):
        declared = self.get_response_serializers()
        if isinstance(declared, dict) and declared and not isinstance(declared, Page):
            codes = sorted(str(code[0] if isinstance(code, tuple) else code) for code in declared)
            for code, value in declared.items():
                if str(code[0] if isinstance(code, tuple) else code) == codes[0]:
                    return value
        return declared

    def _answers_page(self) -> bool:
        return isinstance(self._main_response(), Page)

    def _is_list_view(self, serializer=None) -> bool:
        if self._answers_page():
            return True
        return super()._is_list_view(serializer)

    def _get_pagination_parameters(self):
        if self._answers_page():
            return pagination.parameters()
        return super()._get_pagination_parameters()

    def _get_response_for_code(
        self, serializer, status_code, media_types=None, direction="response"
    ):
        if isinstance(serializer, Page):
            media_types = media_types or self.map_renderers("media_type")
            return {
                "content": {
                    media: build_media_type_object(dict(serializer)) for media in media_types
                },
                "description": "",
            }
        return super()._get_response_for_code(serializer, status_code, media_types, direction)

    def error_codes(self) -> list[str]:
        """The error statuses this operation can answer (module docstring)."""
        names_object = bool(uritemplate.variables(self.path))
        codes = ["400", "401", "403"]
        if names_object:
            codes.append("404")
        if self.method in CHANGING or (self.method == "POST" and names_object):
            codes.append("409")
        return codes

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self.error_codes():
            if code not in responses:
                schema = ERRORS if code == "400" else DETAIL
                responses[code] = {
                    "content": {"application/json": build_media_type_object(schema)},
                    "description": ERROR_DESCRIPTIONS[code],
                }
        return responses
