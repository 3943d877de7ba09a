"""Approval policies in the admin (issue 14): the same checks and permission as ``policies/``
(``campaigns.services.policies``: ``campaigns.manage_policies`` to add, change or delete),
errors beside their fields."""

from django import forms
from django.contrib import admin

from campaigns.models import ApprovalPolicy
from campaigns.services import policies
from config.access import allowed


class PolicyForm(forms.ModelForm):
    class Meta:
        model = ApprovalPolicy
        fields = (
            "name", "description", "condition", "threshold", "approvals", "group", "expires_in",
            "active",
        )  # fmt: skip

    def clean(self):
        data = super().clean()
        document = {
            **{k: data.get(k) for k in self.Meta.fields},
            "group": data["group"].name if data.get("group") else None,
            "approvals": int(data["approvals"]) if data.get("approvals") else None,
            "description": data.get("description") or "",
            "expires_in": data.get("expires_in") or "",
        }
        for item in policies.policy_errors(document, exclude_pk=self.instance.pk):
            field = item["path"] if item["path"] in self.fields else None
            self.add_error(field, item["message"])
        self.document = document
        return data


@admin.register(ApprovalPolicy)
class ApprovalPolicyAdmin(admin.ModelAdmin):
    form = PolicyForm
    list_display = ("name", "condition", "threshold", "approvals", "group", "expires_in", "active")
    list_filter = ("active", "condition", "group")
    search_fields = ("name", "description")

    def _manages(self, request):
        return allowed(request.user, policies.PERMISSION)

    def has_add_permission(self, request):
        return self._manages(request)

    def has_change_permission(self, request, obj=None):
        return self._manages(request)

    def has_delete_permission(self, request, obj=None):
        return self._manages(request)

    def save_model(self, request, obj, form, change):
        stored = ApprovalPolicy.objects.get(pk=obj.pk) if change else None  # before the form's
        saved = policies.save_policy(user=request.user, data=form.document, policy=stored)
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        policies.delete_policy(user=request.user, policy=obj)

    def delete_queryset(self, request, queryset):
        for policy in queryset:
            policies.delete_policy(user=request.user, policy=policy)
