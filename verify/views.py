"""Staff pages: the Verify overview (rates) and the "send test OTP" page."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from verify import conf, ratelimit, selectors, services
from verify.conf import number_for
from verify.forms import CheckCodeForm, SendTestOtpForm
from verify.models import OtpRequest
from verify.tables import OtpRatesTable


def _page(request, template: str, context: dict):
    return render(request, template, {**admin.site.each_context(request), **context})


@staff_member_required
@permission_required("verify.view_otprequest", raise_exception=True)
def overview(request):
    table = OtpRatesTable(selectors.otp_rates(days=14))
    return _page(request, "verify/overview.html", {"table": table, "title": "Verify: OTP rates"})


@staff_member_required
@permission_required("verify.add_otprequest", raise_exception=True)
def send_test_otp(request):
    form = SendTestOtpForm(
        request.POST or None, initial={"channels": ",".join(conf.get("VERIFY_DEFAULT_CHANNELS"))}
    )
    if request.method == "POST" and form.is_valid():
        try:
            otp = services.otp_send(
                number=form.cleaned_data["number"],
                channels=form.cleaned_data["channels"],
                reference=form.cleaned_data["reference"],
                requested_by=request.user,
            )
        except ratelimit.RateLimitExceeded as exc:
            form.add_error(None, str(exc))
        except services.SendFailed as exc:
            messages.error(request, str(exc))
            return redirect("verify:detail", public_id=exc.otp.public_id)
        except services.VerifyError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "OTP sent. Enter the code the phone received.")
            return redirect("verify:detail", public_id=otp.public_id)
    return _page(request, "verify/send.html", {"form": form, "title": "Send a test OTP"})


def _own_test_otp(request, public_id) -> OtpRequest:
    return get_object_or_404(OtpRequest, public_id=public_id, api_client__isnull=True)


@staff_member_required
@permission_required("verify.add_otprequest", raise_exception=True)
def test_otp_detail(request, public_id):
    otp = _own_test_otp(request, public_id)
    return _page(
        request,
        "verify/detail.html",
        {
            "otp": otp,
            "number": number_for(request.user, otp.number),
            "form": CheckCodeForm(),
            "title": "Test OTP",
        },
    )


@require_POST
@staff_member_required
@permission_required("verify.add_otprequest", raise_exception=True)
def test_otp_action(request, public_id, action):
    otp = _own_test_otp(request, public_id)
    try:
        if action == "check":
            form = CheckCodeForm(request.POST)
            if not form.is_valid():
                messages.error(request, " ".join(form.errors.get("code", ["Enter the code."])))
            else:
                outcome = services.otp_verify(otp=otp, token=form.cleaned_data["code"])
                level = messages.SUCCESS if outcome.verified else messages.WARNING
                messages.add_message(request, level, outcome.message)
        elif action == "search":
            answer = services.otp_search(otp=otp)
            messages.info(request, f"BICS status: {answer.status}.")
        elif action == "cancel":
            done = services.otp_cancel(otp=otp)
            messages.info(request, "Cancelled." if done else "The request was already closed.")
        else:
            messages.error(request, "Unknown action.")
    except services.VerifyError as exc:
        messages.error(request, str(exc))
    return redirect("verify:detail", public_id=otp.public_id)
