"""``files/`` (design 6): campaign files for ``load_file``. ``POST`` a multipart ``file`` with an
optional ``name`` (201 when new, 200 when it replaced a file of that name): ``{"name", "size",
"rows", "uploaded_at"}``; ``GET`` lists them (paged). Thin over ``campaigns.files``."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns import files
from campaigns.models import CampaignFile
from config.api.openapi import Page
from config.api.pagination import PageNumberPagination
from config.api.parsers import FormParser, MultiPartParser

FILE = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "size": {"type": "integer"},
        "rows": {"type": "integer"},
        "uploaded_at": {"type": "string", "format": "date-time", "nullable": True},
    },
}
UPLOAD = {
    "type": "object",
    "properties": {"file": {"type": "string", "format": "binary"}, "name": {"type": "string"}},
    "required": ["file"],
}


class FilesView(APIView):
    parser_classes = [MultiPartParser, FormParser]
    queryset = CampaignFile.objects.all()

    @extend_schema(operation_id="files_list", responses={200: Page(FILE)})
    def get(self, request):
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            CampaignFile.objects.order_by("name"), request, view=self
        )
        return paginator.get_paginated_response([files.document(f) for f in page])

    @extend_schema(
        request={"multipart/form-data": UPLOAD},
        responses={201: FILE, 200: FILE},
        summary="Upload a campaign file (replaces one of the same name)",
    )
    def post(self, request):
        item, created = files.upload(
            upload=request.FILES.get("file"), name=request.data.get("name"), user=request.user
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(files.document(item), status=code)
