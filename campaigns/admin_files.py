"""Campaign files in the admin: upload or replace a file for ``load_file`` activities (through
``campaigns.files.upload``, as ``POST files/``), with its size and line count."""

from django import forms
from django.contrib import admin, messages
from django.template.defaultfilters import filesizeformat

from campaigns import files
from campaigns.models import CampaignFile
from config.access import allowed


class CampaignFileForm(forms.ModelForm):
    upload = forms.FileField(
        required=False,
        help_text="A CSV file; uploading under an existing name replaces that file.",
    )

    class Meta:
        model = CampaignFile
        fields = ("name",)
        help_texts = {"name": "Left empty: the file's own name. load_file activities use it."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "name" not in self.fields:  # shown read-only, to a user who may only view it
            return
        self.fields["name"].required = False
        if self.instance.pk:
            self.fields["name"].disabled = True

    user = None

    def clean(self):
        data = super().clean()
        upload = data.get("upload")
        if not self.instance.pk and not upload:
            if "upload" not in self.errors:  # an empty file already says so
                self.add_error("upload", "Choose a file to upload.")
            return data
        name = (
            self.instance.name or data.get("name") or files.clean_name(getattr(upload, "name", ""))
        )
        if not files.NAME_RE.match(name or ""):
            self.add_error("name", "Letters, digits, dots, dashes and underscores, not a path.")
        elif (
            not self.instance.pk
            and CampaignFile.objects.filter(name=name).exists()
            and not allowed(self.user, "campaigns.change_campaignfile")
        ):
            self.add_error("name", "A file has this name; replacing it needs change permission.")
        data["name"] = name
        return data

    def validate_unique(self):
        """Names are unique, but an upload under a taken name replaces that file."""


@admin.register(CampaignFile)
class CampaignFileAdmin(admin.ModelAdmin):
    form = CampaignFileForm
    list_display = ("name", "size_shown", "rows", "uploaded_at", "uploaded_by")
    search_fields = ("name", "original_name")
    readonly_fields = ("original_name", "size_shown", "rows", "uploaded_at", "uploaded_by")
    fields = ("name", "upload", *readonly_fields)

    def get_fields(self, request, obj=None):
        """A new file has nothing to show yet but its name and its upload."""
        return self.fields if obj is not None else ("name", "upload")

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.user = request.user
        return form

    @admin.display(description="size", ordering="size")
    def size_shown(self, obj):
        return filesizeformat(obj.size)

    def save_model(self, request, obj, form, change):
        upload = form.cleaned_data.get("upload")
        if upload is None:
            return
        item, created = files.upload(
            upload=upload, name=form.cleaned_data.get("name") or obj.name, user=request.user
        )
        obj.pk, obj.name = item.pk, item.name
        if not created:
            messages.info(request, f"Replaced the file named {item.name}.")

    def log_addition(self, request, obj, message):
        """``campaigns.files.upload`` writes the audit entry."""

    def log_change(self, request, obj, message):
        """``campaigns.files.upload`` writes the audit entry."""
