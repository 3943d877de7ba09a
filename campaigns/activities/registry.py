"""The one registry of activity kinds, read by the engine, the admin, the API and the importer.

``register(kind_class)`` (usable as a decorator) adds a kind; ``get(type)`` returns the kind
instance (KeyError when unknown); ``all()`` lists them. The built-in kinds register themselves when
``campaigns.activities`` is imported, then the modules named in ``settings.CAMPAIGN_ACTIVITY_MODULES``
(plugins; tests use it to give worker processes their test-only kinds).
"""

import importlib

from django.conf import settings

_kinds = {}
_loaded = []


def register(kind_class):
    kind = kind_class()
    _kinds[kind.type] = kind
    return kind_class


def unregister(type_name):
    _kinds.pop(type_name, None)


def get(type_name):
    _load()
    return _kinds[type_name]


def all():  # noqa: A001 - the registry's own vocabulary
    _load()
    return list(_kinds.values())


def _load():
    if _loaded:
        return
    import campaigns.activities  # noqa: F401 - registers the built-in kinds

    for module in getattr(settings, "CAMPAIGN_ACTIVITY_MODULES", []):
        importlib.import_module(module)
    _loaded.append(True)
