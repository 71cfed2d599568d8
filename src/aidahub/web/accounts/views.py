"""The hub's own account pages: the profile and the confidentiality undertaking."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from aidahub.web.accounts import selectors, services, undertaking
from aidahub.web.accounts.forms import ProfileForm, UndertakingForm


def _safe_next(request) -> str:
    """Where to go after the form: ``next`` when it is a local address, else the profile."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def profile(request):
    user = request.user
    current = selectors.profile_of(user)
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            services.update_profile(
                user,
                display_name=form.cleaned_data["display_name"],
                orcid=form.cleaned_data["orcid"],
                request=request,
            )
            messages.success(request, _("Your profile is saved."))
            return redirect("accounts_profile")
    else:
        form = ProfileForm(initial={"display_name": current.display_name, "orcid": current.orcid})
    return render(
        request,
        "accounts/profile.html",
        {
            "nav": "account",
            "form": form,
            "profile": current,
            "email_addresses": selectors.email_addresses(user),
            "has_totp": selectors.has_totp(user),
            "identity": selectors.current_identity(user),
            "acceptance": selectors.current_undertaking_acceptance(user),
            "undertaking": undertaking.current(),
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def undertaking_page(request):
    current = undertaking.current()
    acceptance = selectors.current_undertaking_acceptance(request.user)
    next_url = _safe_next(request)
    if request.method == "POST":
        form = UndertakingForm(request.POST)
        if form.is_valid():
            try:
                services.accept_undertaking(
                    request.user, request=request, shown_sha256=form.cleaned_data["text_sha256"]
                )
            except ValidationError as exc:
                # The text changed since the page was shown: show the new text to accept.
                messages.error(request, " ".join(exc.messages))
                form = UndertakingForm(initial={"text_sha256": current.sha256})
            else:
                messages.success(
                    request,
                    _("You accepted the confidentiality undertaking, version %(version)s.")
                    % {"version": current.version},
                )
                return redirect(next_url)
    else:
        form = UndertakingForm(initial={"text_sha256": current.sha256})
    return render(
        request,
        "accounts/undertaking.html",
        {
            "nav": "account",
            "form": form,
            "undertaking": current,
            "acceptance": acceptance,
            "next": request.POST.get("next") or request.GET.get("next") or "",
        },
    )
