"""REST endpoints of the campaigns app, mounted under /api/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from campaigns.api import CampaignViewSet
from campaigns.api_channels import PreviewView, ProofView
from campaigns.api_files import FilesView
from campaigns.api_forecast import ForecastView
from campaigns.api_policies import PolicyViewSet
from campaigns.api_rules import RuleContextView
from campaigns.api_runs import KindsView, RunViewSet
from campaigns.api_tasks import TaskViewSet

router = SimpleRouter()
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("runs", RunViewSet, basename="run")
router.register("tasks", TaskViewSet, basename="task")
router.register("policies", PolicyViewSet, basename="policy")

urlpatterns = [
    path("kinds/", KindsView.as_view(), name="kinds"),
    path("files/", FilesView.as_view(), name="campaign-files"),
    path(
        "campaigns/<int:pk>/rule-context/",
        RuleContextView.as_view(),
        name="campaign-rule-context",
    ),
    path("campaigns/<int:pk>/proof/", ProofView.as_view(), name="campaign-proof"),
    path("campaigns/<int:pk>/preview/", PreviewView.as_view(), name="campaign-preview"),
    path("campaigns/<int:pk>/forecast/", ForecastView.as_view(), name="campaign-forecast"),
    *router.urls,
]
