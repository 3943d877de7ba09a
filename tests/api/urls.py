"""A test-only URLconf exercising the API base (permissions and error format) on auth's Group."""

from django.contrib.auth.models import Group
from django.http import Http404
from django.urls import include, path
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from config.errors import Conflict, TooSoon, ValidationFailed


class GroupSerializer(serializers.ModelSerializer):
    class Meta:
        model = Group
        fields = ["id", "name"]


class GroupViewSet(viewsets.ModelViewSet):
    """Model permissions on Group; ``publish`` also needs the custom ``auth.publish_group``."""

    queryset = Group.objects.order_by("pk")
    serializer_class = GroupSerializer
    required_permissions = {"publish": ["auth.publish_group"]}

    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        group = self.get_object()
        if group.name.startswith("published"):
            raise Conflict("This group is already published.")
        return Response({"published": group.pk})

    @action(detail=False, methods=["post"])
    def count(self, request):
        return Response({"count": self.get_queryset().count()})


class WhereField(serializers.JSONField):
    """A toy rule: ``{"and": [{"field": ...}, ...]}``, where every ``field`` must be ``name``."""

    def to_internal_value(self, data):
        data = super().to_internal_value(data)
        errors = [
            {} if item.get("field") == "name" else {"field": ["Unknown field."]}
            for item in data.get("and", [])
        ]
        if any(errors):
            raise serializers.ValidationError({"and": errors})
        return data


class RecordSerializer(serializers.Serializer):
    email = serializers.EmailField()


class ActivitySerializer(serializers.Serializer):
    id = serializers.CharField()
    where = WhereField(required=False)


class DocumentSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=10)
    records = RecordSerializer(many=True, required=False)
    activities = ActivitySerializer(many=True, required=False)
    scores = serializers.ListField(child=serializers.IntegerField(), required=False)

    def validate(self, attrs):
        if attrs["name"] == "forbidden":
            raise serializers.ValidationError("This name is reserved.")
        return attrs


class DocumentView(APIView):
    """No model; POST needs the custom ``auth.publish_group`` (keyed by HTTP method)."""

    required_permissions = {"post": ["auth.publish_group"]}
    permission_labels = {"post": "Sending a document"}
    serializer_class = DocumentSerializer

    def post(self, request):
        serializer = DocumentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data)


class GroupNamesView(APIView):
    """No queryset, but its data is Group's: ``permission_model`` makes it need ``view_group``."""

    permission_model = Group

    def get(self, request):
        return Response(sorted(Group.objects.values_list("name", flat=True)))


class ErrorsView(APIView):
    """GET ?kind=... raises each kind of error."""

    def get(self, request):
        kind = request.query_params.get("kind")
        if kind == "validation":
            raise ValidationFailed([{"path": "activities[0].wait", "message": "Bad duration."}])
        if kind == "conflict":
            raise Conflict("Only a draft can be changed.")
        if kind == "too_soon":
            raise TooSoon("Triggered less than 60 s ago.", wait=42)
        if kind == "missing":
            raise Http404("No such thing.")
        if kind == "crash":
            raise RuntimeError("boom")
        return Response({"ok": True})


router = SimpleRouter()
router.register("groups", GroupViewSet)

urlpatterns = [
    path("api/", include(router.urls)),
    path("api/documents/", DocumentView.as_view()),
    path("api/errors/", ErrorsView.as_view()),
    path("api/group-names/", GroupNamesView.as_view()),
]
