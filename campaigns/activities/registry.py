"""The one registry of activity kinds, read by the engine, the admin, the API, the canvas and the
definition importer (design 9). Nothing else lists kinds.

The kinds are the modules named by dotted path in ``settings.CAMPAIGN_ACTIVITY_KINDS`` (default:
``DEFAULT_KINDS``, the built-in ones, as DRF keeps its ``DEFAULTS``) followed by the plugins of
``settings.CAMPAIGN_ACTIVITY_MODULES``. Each module defines its kind as a subclass of
``ActivityKind`` with a ``type``; every such class defined in the module is registered, loaded
lazily at the first lookup. Adding a kind is one module plus its tests (and, for a built-in one,
its line below).

- ``get(type) -> ActivityKind`` (KeyError when unknown); ``all() -> [ActivityKind]`` in
  registration order; ``types() -> [str]``.
- ``register(kind_class)`` adds one class (tests, or code that builds kinds); ``unregister(type)``.
"""

import importlib
import inspect

from django.conf import settings

from campaigns.activities.base import ActivityKind

DEFAULT_KINDS = [
    "campaigns.activities.build_audience",
    "campaigns.activities.read_audience",
    "campaigns.activities.incremental_query",
    "campaigns.activities.combine",
    "campaigns.activities.change_dimension",
    "campaigns.activities.deduplication",
    "campaigns.activities.split",
    "campaigns.activities.enrichment",
    "campaigns.activities.load_file",
    "campaigns.activities.reconciliation",
    "campaigns.activities.save_audience",
    "campaigns.activities.update_data",
    "campaigns.activities.fork",
    "campaigns.activities.and_join",
    "campaigns.activities.test",
    "campaigns.activities.wait",
    "campaigns.activities.approval",
    "campaigns.activities.alert",
    "campaigns.activities.end",
    "campaigns.activities.email",
    "campaigns.activities.sms",
    "campaigns.activities.push",
]

_kinds: dict = {}
_loaded: list = []


def register(kind_class):
    """Register one kind class (usable as a decorator); returns it."""
    kind = kind_class()
    _kinds[kind.type] = kind
    return kind_class


def unregister(type_name: str) -> None:
    _kinds.pop(type_name, None)


def kinds_in(module) -> list:
    """The kind classes a module defines (not those it imports)."""
    return [
        value
        for _name, value in inspect.getmembers(module, inspect.isclass)
        if issubclass(value, ActivityKind)
        and value is not ActivityKind
        and value.__module__ == module.__name__
        and value.type
    ]


def add_module(dotted_path: str) -> None:
    """Import a kind module and register the kinds it defines."""
    for kind_class in kinds_in(importlib.import_module(dotted_path)):
        register(kind_class)


def module_paths() -> list[str]:
    built_in = getattr(settings, "CAMPAIGN_ACTIVITY_KINDS", None) or DEFAULT_KINDS
    return [*built_in, *getattr(settings, "CAMPAIGN_ACTIVITY_MODULES", [])]


def _load():
    if _loaded:
        return
    _loaded.append(True)
    for path in module_paths():
        add_module(path)


def get(type_name):
    _load()
    return _kinds[type_name]


def all():  # noqa: A001 - the registry's own vocabulary
    _load()
    return list(_kinds.values())


def types() -> list[str]:
    return [kind.type for kind in all()]
