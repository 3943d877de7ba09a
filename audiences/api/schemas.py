"""``schemas/`` and ``schemas/{name}/`` (design 5.1 and 6): thin views over
``audiences.services.schemas``."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from audiences.api import documents as docs
from audiences.models import Schema
from audiences.serializers import schema_document
from audiences.services import schemas as services
from config.api.openapi import DETAIL
from config.api.requests import flag_param

CONFIRM = OpenApiParameter("confirm", bool, description="true to really delete")
DEFINITIONS = {"application/json": {"oneOf": [docs.SCHEMA_DEFINITION, docs.SCHEMA_LIST]}}


def _confirmed(request):
    return flag_param(request, "confirm")


def _prefetched():
    return Schema.objects.prefetch_related("attributes", "links__to")


class SchemaListView(GenericAPIView):
    """List schemas (paged), or define one schema or a list resolved together."""

    queryset = Schema.objects.none()

    @extend_schema(responses={200: docs.SCHEMAS_PAGE})
    def get(self, request):
        page = self.paginate_queryset(_prefetched())
        return self.get_paginated_response([schema_document(s, with_stats=True) for s in page])

    @extend_schema(request=DEFINITIONS, responses={201: docs.SCHEMAS_CREATED, 409: DETAIL})
    def post(self, request):
        created = services.create_schemas(document=request.data, user=request.user)
        documents = [
            schema_document(s) for s in _prefetched().filter(pk__in=[s.pk for s in created])
        ]
        order = {s.name: i for i, s in enumerate(created)}
        documents.sort(key=lambda d: order[d["name"]])
        is_list = isinstance(request.data, dict) and "schemas" in request.data
        body = {"schemas": documents} if is_list else documents[0]
        return Response(body, status=status.HTTP_201_CREATED)


class SchemaDetailView(GenericAPIView):
    """Read a schema, add to it (``PATCH``), or delete it (``?confirm=true``)."""

    queryset = Schema.objects.none()

    @extend_schema(responses={200: docs.SCHEMA})
    def get(self, request, name):
        return Response(schema_document(get_object_or_404(_prefetched(), name=name), True))

    @extend_schema(request={"application/json": docs.SCHEMA_PATCH}, responses={200: docs.SCHEMA})
    def patch(self, request, name):
        get_object_or_404(Schema, name=name)
        services.add_to_schema(name=name, document=request.data, user=request.user)
        return Response(schema_document(_prefetched().get(name=name), True))

    @extend_schema(parameters=[CONFIRM], responses={204: None})
    def delete(self, request, name):
        get_object_or_404(Schema, name=name)
        services.delete_schema(name=name, confirm=_confirmed(request), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AttributeDetailView(GenericAPIView):
    """Delete one attribute and its column (``?confirm=true``)."""

    queryset = Schema.objects.none()

    @extend_schema(parameters=[CONFIRM], responses={204: None})
    def delete(self, request, name, attribute):
        get_object_or_404(Schema.objects.filter(attributes__name=attribute), name=name)
        services.delete_attribute(
            schema_name=name,
            attribute_name=attribute,
            confirm=_confirmed(request),
            user=request.user,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class LinkDetailView(GenericAPIView):
    """Delete one link (``?confirm=true``); its ``via`` attribute stays as a plain attribute."""

    queryset = Schema.objects.none()

    @extend_schema(parameters=[CONFIRM], responses={204: None})
    def delete(self, request, name, link):
        get_object_or_404(Schema.objects.filter(links__name=link), name=name)
        services.delete_link(
            schema_name=name, link_name=link, confirm=_confirmed(request), user=request.user
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class SchemaFieldsView(GenericAPIView):
    """The field tree of a schema for rule editors (``audiences.fields``): attributes with their
    types and enums, many-to-one links to follow, one-to-many links for ``exists`` and
    aggregates, the operator table and the saved audiences of the schema."""

    queryset = Schema.objects.none()

    @extend_schema(
        responses={
            200: {
                "type": "object",
                "additionalProperties": True,
                "description": "attributes (types, enums), links to follow, one-to-many links, "
                "operators and saved audiences of the schema",
            }
        }
    )
    def get(self, request, name):
        from audiences.fields import field_tree

        return Response(field_tree(get_object_or_404(Schema, name=name)))
