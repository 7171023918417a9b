"""Spreadsheet import and export pages: upload → column mapping → dry run → report → commit.

Each view looks its job up in the viewer's scope first (a job of another committee answers 404,
also on the POST-only URLs), then calls one function of people.imports or people.exports.
Everything works as a plain form POST + redirect; htmx only polls a running job's progress.
"""

import csv
import io
import tempfile

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from linli.people import exports, imports
from linli.people.choices import ImportStatus
from linli.people.forms_import import ExportForm, ImportUploadForm, MappingForm
from linli.people.models import ImportJob
from linli.people.perms import MANAGE_REGISTER, REVEAL_PII, VIEW_REGISTER

REPORT_ROWS_SHOWN = 1000


def _job(request, pk: int) -> ImportJob:
    jobs = ImportJob.objects.for_viewer(request.user, MANAGE_REGISTER)
    return get_object_or_404(jobs.select_related("committee", "created_by"), pk=pk)


def _committees(request, perm: str):
    committees = imports.committees_for(viewer=request.user, perm=perm)
    if not committees:
        raise Http404
    return committees


# The upload holds plaintext ID numbers: keep it out of error reports.
@sensitive_variables()
@sensitive_post_parameters()
@login_required
def import_start(request):
    committees = _committees(request, MANAGE_REGISTER)
    form = ImportUploadForm(request.POST or None, request.FILES or None, committees=committees)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = imports.import_job_create(
                actor=request.user,
                committee=form.cleaned_data["committee"],
                kind=form.cleaned_data["kind"],
                file_name=upload.name,
                content=upload.read(),
            )
        except ValidationError as error:
            form.add_error("file", error)
        else:
            return redirect("people:import_job", pk=job.pk)
    jobs = (
        ImportJob.objects.for_viewer(request.user, MANAGE_REGISTER)
        .select_related("committee", "created_by")
        .defer("content_cipher", "report")[:10]
    )
    return render(request, "people/import_start.html", {"form": form, "jobs": jobs})


@login_required
def import_job(request, pk: int):
    job = _job(request, pk)
    done, total = imports.import_job_progress(job=job)
    report = job.report or {}
    bad_rows = report.get("bad_rows", [])
    context = {
        "job": job,
        "form": MappingForm(job=job),
        "running": job.status in imports.RUNNING,
        "editable": bool(job.content_cipher)
        and job.status not in (*imports.RUNNING, ImportStatus.COMMITTED),
        "can_commit": job.status == ImportStatus.VALIDATED and report.get("errors") == 0,
        "report": report,
        "bad_rows": bad_rows[:REPORT_ROWS_SHOWN],
        "bad_rows_hidden": max(report.get("errors", 0) - REPORT_ROWS_SHOWN, 0),
        "done": done,
        "total": total,
        "percent": int(100 * done / total) if total else 0,
    }
    return render(request, "people/import_job.html", context)


@login_required
def import_job_progress(request, pk: int):
    """The polled fragment; once the job has stopped running the page reloads itself."""
    job = _job(request, pk)
    done, total = imports.import_job_progress(job=job)
    if job.status not in imports.RUNNING:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    context = {
        "job": job,
        "running": True,
        "done": done,
        "total": total,
        "percent": int(100 * done / total) if total else 0,
    }
    return render(request, "people/import_job.html#progress", context)


@login_required
def import_job_mapping(request, pk: int):
    job = _job(request, pk)
    if request.method == "POST":
        form = MappingForm(request.POST, job=job)
        if form.is_valid():
            try:
                imports.import_job_map(actor=request.user, job=job, mapping=form.mapping())
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, _("Column mapping saved; run a dry run to check it."))
    return redirect("people:import_job", pk=job.pk)


@login_required
def import_job_dry_run(request, pk: int):
    return _start(request, pk, commit=False)


@login_required
def import_job_commit(request, pk: int):
    return _start(request, pk, commit=True)


def _start(request, pk: int, *, commit: bool):
    job = _job(request, pk)
    if request.method == "POST":
        try:
            imports.import_job_start(actor=request.user, job=job, commit=commit)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        except PermissionDenied:
            raise Http404 from None
    return redirect("people:import_job", pk=job.pk)


@login_required
def import_job_errors(request, pk: int):
    """Every bad row of the last report as a CSV file (row, reason), for fixing the source."""
    job = _job(request, pk)
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow([_("Row"), _("Reason")])
    writer.writerows((job.report or {}).get("bad_rows", []))
    response = HttpResponse(text.getvalue().encode("utf-8-sig"), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
    return response


@sensitive_variables()
@sensitive_post_parameters("reason")
@login_required
def export(request):
    committees = _committees(request, VIEW_REGISTER)
    form = ExportForm(
        request.POST or None,
        committees=committees,
        can_reveal=request.user.has_perm(REVEAL_PII),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        out = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it)
        try:
            exports.register_export(
                actor=request.user,
                committee=data["committee"],
                kind=data["kind"],
                out=out,
                file_format=data["file_format"],
                reveal=bool(data.get("reveal")),
                reason=data.get("reason", ""),
            )
        except PermissionDenied:
            out.close()
            form.add_error("reveal", exports.REVEAL_NOT_PERMITTED)
        except ValidationError as error:
            out.close()
            form.add_error(None, error)
        else:
            out.seek(0)
            name = exports.export_file_name(
                committee=data["committee"], kind=data["kind"], file_format=data["file_format"]
            )
            return FileResponse(out, as_attachment=True, filename=name)
    return render(request, "people/export.html", {"form": form})
