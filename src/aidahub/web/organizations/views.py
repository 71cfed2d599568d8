"""Membership pages and the members' area.

The person's own records (``/membership/...``) need a sign-in only. The members' area
(``/consortium/``) is non-public: ``policies.nonpublic_access`` decides, each view is in the
audit trail, and each refusal is a ``security.denied`` event naming what was missing, so
that the audit report can spot bursts of refusals.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from aidahub.web.audit.services import record
from aidahub.web.organizations import selectors, services
from aidahub.web.organizations.checklist import checklist
from aidahub.web.organizations.forms import NameOrganizationForm, NetworkPartnerForm
from aidahub.web.organizations.policies import Decision, Requirement, nonpublic_access

DENIED = "security.denied"


def _add_errors(form, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, errors in exc.error_dict.items():
        form.add_error(name if name in form.fields else None, errors)


def _refuse(request, missing) -> None:
    record(
        DENIED,
        request=request,
        data={"path": request.path, "missing": [r.value for r in missing]},
    )


@require_safe
def membership(request):
    """The person's organizations, memberships, agreements and what they still need."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    user = request.user
    decision = nonpublic_access(user)
    context = {
        "nav": "membership",
        "affiliations": selectors.affiliations_of(user),
        "memberships": selectors.personal_memberships_of(user),
        "agreements": selectors.agreements_covering(user),
        "applications": selectors.applications_of(user),
        "decision": decision,
        "checklist": checklist(user, decision, next_url=request.path),
    }
    return render(request, "organizations/membership.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
def name_organization(request):
    """Pick a verified organization or name a new one; either waits for staff to confirm."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    form = NameOrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["organization"] is not None:
                affiliation = services.choose_organization(
                    request.user, data["organization"], role=data["role"], request=request
                )
                org, created = affiliation.organization, False
            else:
                named = services.name_organization(
                    request.user,
                    data["name"],
                    data["country"],
                    data["organization_number"],
                    role=data["role"],
                    request=request,
                )
                org, created = named.organization, named.created
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            if created:
                messages.success(
                    request,
                    _(
                        "%(name)s is recorded. It stays unverified until staff check it, "
                        "and your affiliation counts once they confirm it."
                    )
                    % {"name": org.name},
                )
            else:
                messages.success(
                    request,
                    _("Your affiliation with %(name)s counts once staff confirm it.")
                    % {"name": org.name},
                )
            return redirect("organizations:membership")
    context = {
        "nav": "membership",
        "form": form,
        "affiliations": selectors.affiliations_of(request.user),
    }
    return render(request, "organizations/name_organization.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
def network_partner(request):
    """Apply for network partnership for one of your organizations; see your applications."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    organizations = selectors.organizations_open_to_apply(request.user)
    form = NetworkPartnerForm(request.POST or None, organizations=organizations)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.apply_network_partner(
                request.user,
                data["organization"],
                data["motivation"],
                data["fee_waiver_requested"],
                data["fee_waiver_reason"],
                request=request,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(
                request,
                _("Your application for %(name)s is sent. Staff will answer by e-mail.")
                % {"name": data["organization"].name},
            )
            return redirect("organizations:network-partner")
    context = {
        "nav": "membership",
        "form": form,
        "organizations": organizations,
        "applications": selectors.applications_of(request.user),
    }
    return render(request, "organizations/network_partner.html", context)


@require_http_methods(["POST"])
def withdraw_application(request, pk: int):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    application = selectors.applications_of(request.user).filter(pk=pk).first()
    if application is None:
        raise Http404
    try:
        services.withdraw_application(application, request.user, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Your application is withdrawn."))
    return redirect("organizations:network-partner")


def _denied(request, decision: Decision):
    _refuse(request, decision.missing)
    context = {
        "checklist": [
            item
            for item in checklist(request.user, decision, next_url=request.path)
            if not item.met
        ],
    }
    return render(request, "organizations/consortium_denied.html", context, status=403)


@require_safe
def consortium(request):
    """Non-public consortium information: members, their signatories, research groups."""
    if not request.user.is_authenticated:
        _refuse(request, [Requirement.ACCOUNT])
        return redirect_to_login(request.get_full_path())
    try:
        directory = selectors.consortium_directory(request.user)
    except selectors.NotAllowed as refused:
        return _denied(request, refused.decision)
    record("organizations.consortium.view", request=request, data={"path": request.path})
    return render(
        request, "organizations/consortium.html", {"nav": "consortium", "directory": directory}
    )
