"""``campaigns/{id}/proof/`` and ``campaigns/{id}/preview/`` (design 6): a channel activity of
the campaign rendered for one record, sent as a proof (``campaigns.send_proof``) or returned
(``audiences.view_records``). Thin: ``campaigns.services.proofs`` does the work."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns import services
from campaigns.models import Campaign

BODY = {
    "application/json": {
        "type": "object",
        "properties": {
            "activity": {"type": "string"},
            "record": {"type": "string"},
            "to": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["activity", "record"],
    }
}


def _body(request):
    return request.data if isinstance(request.data, dict) else {}


class ProofView(APIView):
    """POST ``{"activity", "record", "to": [...]}``: 201 with what each address answered."""

    queryset = Campaign.objects.all()
    permission_labels = {"post": "Sending a proof"}

    def get_permissions(self):
        self.action = "proof"
        return super().get_permissions()

    @extend_schema(request=BODY, responses={201: OpenApiTypes.OBJECT})
    def post(self, request, pk):
        data = _body(request)
        proof = services.send_proof(
            campaign=get_object_or_404(Campaign, pk=pk),
            user=request.user,
            activity=data.get("activity"),
            record=data.get("record"),
            to=data.get("to"),
        )
        return Response(
            {"id": proof.pk, "activity": proof.activity_key, "record": proof.record_key,
             "results": proof.results},
            status=status.HTTP_201_CREATED,
        )  # fmt: skip


class PreviewView(APIView):
    """POST ``{"activity", "record"}``: the rendered message (SMS: length and segments)."""

    queryset = Campaign.objects.all()

    def get_permissions(self):
        self.action = "preview"
        return super().get_permissions()

    @extend_schema(request=BODY, responses={200: OpenApiTypes.OBJECT})
    def post(self, request, pk):
        data = _body(request)
        return Response(
            services.preview(
                campaign=get_object_or_404(Campaign, pk=pk),
                user=request.user,
                activity=data.get("activity"),
                record=data.get("record"),
            )
        )
