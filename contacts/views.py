"""Staff endpoints used by the admin pages: import progress, downloads, live segment counts."""

from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST

from contacts.forms import SegmentPreviewForm
from contacts.models import ContactImport, ImportState, Segment
from contacts.selectors import audience, audience_counts, export_rows, segment_contacts
from contacts.services.exports import csv_lines, masked_rows
from core.masking import mask_number, mask_numbers_in_text


def _require(request, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


@staff_member_required
@require_GET
def import_progress(request, pk: int):
    _require(request, "contacts.view_contactimport")
    item = get_object_or_404(ContactImport, pk=pk)
    return JsonResponse(
        {
            "id": item.pk,
            "state": item.state,
            "state_display": item.get_state_display(),
            "finished": item.state in (ImportState.DONE, ImportState.FAILED),
            "percent": item.percent,
            "rows_read": item.rows_read,
            "imported": item.rows_imported,
            "updated": item.rows_updated,
            "duplicates": item.rows_duplicate,
            "rejected": item.rows_rejected,
            "error": item.error,
            "rejections_url": reverse("contacts:import_rejections", args=[item.pk]),
        }
    )


@staff_member_required
@require_GET
def import_rejections_csv(request, pk: int):
    _require(request, "contacts.view_contactimport")
    item = get_object_or_404(ContactImport, pk=pk)
    rows = item.rejections.order_by("line").values_list("line", "reason", "raw").iterator(2000)
    response = StreamingHttpResponse(
        csv_lines(masked_rows(_with_header(rows), request.user,
                              columns={1: mask_numbers_in_text, 2: mask_numbers_in_text})),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="import-{item.pk}-rejected.csv"'
    return response


def _with_header(rows):
    yield ("line", "reason", "row")
    yield from rows


@staff_member_required
@require_GET
def segment_export_csv(request, pk: int):
    _require(request, "contacts.view_contact")
    segment = get_object_or_404(Segment, pk=pk)
    response = StreamingHttpResponse(
        csv_lines(masked_rows(export_rows(segment_contacts(segment)), request.user, columns={0: mask_number})),
        content_type="text/csv; charset=utf-8",
    )
    name = slugify(segment.name) or f"segment-{segment.pk}"
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


@staff_member_required
@require_POST
def segment_preview(request):
    """Live count for the segment editor: matching contacts, and how many are opted out."""
    _require(request, "contacts.view_contact")
    form = SegmentPreviewForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
        return JsonResponse({"ok": False, "error": errors}, status=400)
    data = form.cleaned_data
    positive_op = data["positive_tags_operator"] or "any"
    negative_op = data["negative_tags_operator"] or "any"
    queryset = audience(
        positive_tag_ids=[t.pk for t in data["positive_tags"]],
        positive_operator=positive_op,
        negative_tag_ids=[t.pk for t in data["negative_tags"]],
        negative_operator=negative_op,
        conditions=data["conditions"],
    )
    reasons = []
    if positive_op == "all":
        reasons.append("positive tags use 'all'")
    if negative_op == "all":
        reasons.append("negative tags use 'all'")
    if data["conditions"]:
        reasons.append(f"{len(data['conditions'])} field condition(s)")
    return JsonResponse({"ok": True, **audience_counts(queryset), "local_only_reasons": reasons})
