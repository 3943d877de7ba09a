"""The one registry of activity kinds, read by the engine, the admin, the API and the importer.

``register(kind_class)`` (usable as a decorator) adds a kind; ``get(type)`` returns the kind
instance (KeyError when unknown); ``all()`` lists them. The built-in kinds register themselves when
``campaigns.activities`` is imported; tests may register extra kinds (``unregister`` removes them).
"""

_kinds = {}


def register(kind_class):
    kind = kind_class()
    _kinds[kind.type] = kind
    return kind_class


def unregister(type_name):
    _kinds.pop(type_name, None)


def get(type_name):
    _load_builtins()
    return _kinds[type_name]


def all():  # noqa: A001 - the registry's own vocabulary
    _load_builtins()
    return list(_kinds.values())


def _load_builtins():
    import campaigns.activities  # noqa: F401 - registers the built-in kinds
