"""``policies/`` (issue 14, design 6): approval policies. Reading needs
``campaigns.view_approvalpolicy``; creating, changing and deleting need
``campaigns.manage_policies`` (checked by ``campaigns.services.policies``, as in the admin)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.response import Response

from campaigns.models import ApprovalPolicy
from campaigns.models_governance import PolicyCondition
from campaigns.services import policies
from config.api.openapi import Page
from config.api.pagination import PageNumberPagination

FIELDS = {
    "name": {"type": "string", "maxLength": 200},
    "description": {"type": "string"},
    "condition": {
        "type": "string",
        "enum": list(PolicyCondition.values),
        "description": "always; marketing_channel; audience_over (with threshold); "
        "content_changed (since the last approved version).",
    },
    "threshold": {
        "type": "integer",
        "nullable": True,
        "minimum": 0,
        "description": "N of audience_over: a count in the latest test run above it asks approval.",
    },
    "approvals": {"type": "integer", "enum": [1, 2], "description": "Distinct approvers needed."},
    "group": {"type": "string", "description": "The name of the group whose members approve."},
    "expires_in": {"type": "string", "description": "A duration (2d); empty: never expires."},
    "active": {"type": "boolean"},
}
POLICY = {"type": "object", "properties": {"id": {"type": "integer"}, **FIELDS}}
POLICY_IN = {
    "application/json": {
        "type": "object",
        "properties": FIELDS,
        "required": ["name", "condition", "group"],
    }
}
POLICY_PATCH = {"application/json": {"type": "object", "properties": FIELDS}}
VIEW = ["campaigns.view_approvalpolicy"]


class PolicyViewSet(viewsets.ViewSet):
    """Approval policies: when publishing needs sign-off, how many approvals, from which group."""

    permission_model = None  # writes: campaigns.manage_policies, in the service
    required_permissions = {"list": VIEW, "retrieve": VIEW}
    lookup_value_regex = r"\d+"

    def _get(self, pk):
        return get_object_or_404(ApprovalPolicy.objects.select_related("group"), pk=pk)

    @extend_schema(operation_id="policies_list", responses={200: Page(POLICY)})
    def list(self, request):
        paginator = PageNumberPagination()
        found = ApprovalPolicy.objects.select_related("group")
        page = paginator.paginate_queryset(found, request, view=self)
        return paginator.get_paginated_response([policies.as_document(p) for p in page])

    @extend_schema(responses={200: POLICY})
    def retrieve(self, request, pk=None):
        return Response(policies.as_document(self._get(pk)))

    @extend_schema(request=POLICY_IN, responses={201: POLICY})
    def create(self, request):
        policy = policies.save_policy(user=request.user, data=request.data)
        return Response(policies.as_document(policy), status=status.HTTP_201_CREATED)

    @extend_schema(request=POLICY_IN, responses={200: POLICY})
    def update(self, request, pk=None):
        policy = policies.save_policy(user=request.user, data=request.data, policy=self._get(pk))
        return Response(policies.as_document(policy))

    @extend_schema(request=POLICY_PATCH, responses={200: POLICY})
    def partial_update(self, request, pk=None):
        return self.update(request, pk)

    @extend_schema(request=None, responses={204: None})
    def destroy(self, request, pk=None):
        policies.delete_policy(user=request.user, policy=self._get(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
