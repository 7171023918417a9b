"""12345 hotline import pages for the street's grid centre: upload → dry-run report → import.

Synchronous: a hotline file is a day's or a week's orders (at most MAX_ROWS; a bigger backlog goes through `linli import_hotline`), checked and written
within the request. ImportJob is not reused: it belongs to a committee's register (its kinds,
mapping and committee scope). Between the dry run and the import the file waits, encrypted, in
the cache for an hour under an unguessable token bound to the uploader; only a file whose dry run
found no bad row is kept. The import checks every row again before writing anything.
"""

import csv
import io
import secrets

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from linli.core.crypto import decrypt_bytes, encrypt_bytes
from linli.people.forms_import import BAD_TYPE, EMPTY_FILE, UPLOAD_TYPES, CommitteeChoiceField
from linli.workorders import hotline

MAX_ROWS = 2000  # written within the request (about 10–30 ms per order); more by the command
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
UPLOAD_TTL = 3600  # seconds a checked file waits for its import
REPORT_ROWS_SHOWN = 1000
TOO_BIG = gettext_lazy("The file is larger than 5 MB; split it into several files.")


class HotlineUploadForm(forms.Form):
    street = CommitteeChoiceField(label=gettext_lazy("Street"), queryset=None, empty_label=None)
    file = forms.FileField(
        label=gettext_lazy("12345 hotline file"),
        help_text=gettext_lazy(".xlsx or .csv, at most 5 MB and 2,000 orders."),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(UPLOAD_TYPES)}),
    )

    def __init__(self, *args, streets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["street"].queryset = streets
        if len(streets) == 1:
            self.fields["street"].initial = streets[0].pk

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(UPLOAD_TYPES):
            raise forms.ValidationError(BAD_TYPE)
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(TOO_BIG)
        if upload.size == 0:
            raise forms.ValidationError(EMPTY_FILE)
        return upload


def _streets(request):
    streets = hotline.streets_for(viewer=request.user)
    if not streets:
        raise Http404
    return streets


def _key(token: str) -> str:
    return f"linli:hotline-upload:{token}"


def _upload(request, token: str):
    """The viewer's own checked upload and its street (still in the viewer's scope), else 404."""
    entry = cache.get(_key(token))
    if entry is None or entry["user"] != request.user.pk:
        raise Http404
    street = hotline.streets_for(viewer=request.user).filter(pk=entry["street"]).first()
    if street is None:
        raise Http404
    return entry, street


# The upload holds callers' phone numbers: keep it out of error reports.
@sensitive_variables()
@sensitive_post_parameters()
@login_required
def hotline_upload(request):
    streets = _streets(request)
    form = HotlineUploadForm(request.POST or None, request.FILES or None, streets=streets)
    if request.method == "POST" and form.is_valid():
        upload, street = form.cleaned_data["file"], form.cleaned_data["street"]
        content = upload.read()
        name = upload.name.rsplit("/", 1)[-1][:200]
        result = hotline.hotline_check(
            actor=request.user,
            street=street,
            opener=lambda: io.BytesIO(content),
            file_name=name,
            max_rows=MAX_ROWS,
        )
        token = secrets.token_urlsafe(18)
        entry = {
            "user": request.user.pk,
            "street": street.pk,
            "file_name": name,
            "cipher": encrypt_bytes(content) if result.ok else "",
            "report": result.as_report(),
        }
        cache.set(_key(token), entry, UPLOAD_TTL)
        return redirect("workorders:hotline_report", token=token)
    columns = [(c.header, c.label, c.required) for c in hotline.COLUMNS]
    return render(request, "workorders/hotline/upload.html", {"form": form, "columns": columns})


@login_required
def hotline_report(request, token: str):
    entry, street = _upload(request, token)
    report = entry["report"]
    bad_rows = report.get("bad_rows", [])
    context = {
        "token": token,
        "street": street,
        "file_name": entry["file_name"],
        "report": report,
        "bad_rows": bad_rows[:REPORT_ROWS_SHOWN],
        "bad_rows_hidden": max(report.get("errors", 0) - REPORT_ROWS_SHOWN, 0),
        "can_commit": bool(entry["cipher"]) and not report.get("committed"),
    }
    return render(request, "workorders/hotline/report.html", context)


@sensitive_variables()
@login_required
def hotline_commit(request, token: str):
    entry, street = _upload(request, token)
    if request.method != "POST":
        return redirect("workorders:hotline_report", token=token)
    if not entry["cipher"]:
        messages.error(request, _("This file cannot be imported; upload it again."))
        return redirect("workorders:hotline_report", token=token)
    content = decrypt_bytes(entry["cipher"])
    # Taken first, so a second click finds nothing left to import.
    cache.set(_key(token), {**entry, "cipher": ""}, UPLOAD_TTL)
    try:
        result = hotline.hotline_commit(
            actor=request.user,
            street=street,
            opener=lambda: io.BytesIO(content),
            file_name=entry["file_name"],
            max_rows=MAX_ROWS,
        )
    except PermissionDenied:
        raise Http404 from None
    cache.set(_key(token), {**entry, "cipher": "", "report": result.as_report()}, UPLOAD_TTL)
    if result.committed:
        messages.success(
            request,
            _("%(n)d new orders imported; %(old)d were already here.")
            % {"n": result.created, "old": result.unchanged},
        )
    else:
        messages.error(request, _("Nothing was imported: the file has bad rows now."))
    return redirect("workorders:hotline_report", token=token)


@login_required
def hotline_errors(request, token: str):
    """Every bad row of the report as a CSV file (row, reason), for fixing the source."""
    entry, _street = _upload(request, token)
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow([_("Row"), _("Reason")])
    writer.writerows(entry["report"].get("bad_rows", []))
    response = HttpResponse(text.getvalue().encode("utf-8-sig"), content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="hotline-errors.csv"'
    return response
