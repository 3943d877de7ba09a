"""``OPTIONS`` on every endpoint (``DEFAULT_METADATA_CLASS``).

DRF's ``SimpleMetadata`` describes the serializer of ``POST`` / ``PUT`` as ``actions``, and fails
with an ``AssertionError`` (a 500) on a view that has none: most of ours answer documents built by
services. This one describes the serializer when the view declares one, and otherwise answers
name, description, renderers and parsers only; the operations themselves are described by the
OpenAPI schema at ``/api/schema/``. The ``Allow`` header lists the methods either way.
"""

from rest_framework.metadata import SimpleMetadata


class Metadata(SimpleMetadata):
    def determine_actions(self, request, view):
        if getattr(view, "serializer_class", None) is None:
            return {}
        return super().determine_actions(request, view)
