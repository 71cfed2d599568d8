"""The organizations admin: pages load, staff set up an organization with its signatory and
members, file agreements with their signed copies, and decide applications; every change
goes through the services and is in the audit trail."""

import hashlib
from pathlib import Path

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from aidahub.web.audit.models import AuditEvent
from aidahub.web.organizations import services
from aidahub.web.organizations.models import (
    Affiliation,
    Agreement,
    ApplicationState,
    FeeStatus,
    MembershipLevel,
    NetworkPartnerApplication,
    Organization,
    PersonalMembership,
    ResearchGroup,
)
from tests.web.organizations import factories as f

pytestmark = pytest.mark.django_db

MODELS = [m for m in admin.site._registry if m._meta.app_label == "organizations"]


@pytest.fixture
def director():
    staff = f.make_user("director-mfa", staff=True, is_superuser=True)
    f.give_mfa(staff)  # staff reach the admin only with two-factor authentication
    return staff


@pytest.fixture
def staff(director) -> Client:
    client = Client()
    client.force_login(director)
    return client


def _url(model, view="changelist", *args) -> str:
    return reverse(f"admin:organizations_{model._meta.model_name}_{view}", args=args)


def _action(client, model, action, objects, **extra):
    data = {"action": action, "_selected_action": [o.pk for o in objects], **extra}
    if "apply" not in extra:
        data["index"] = 0
    return client.post(_url(model), data, follow=True)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _management(prefix: str, total: int, initial: int = 0) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def _files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_every_model_is_in_the_admin():
    names = {m.__name__ for m in MODELS}
    assert names == {
        "Organization",
        "Signatory",
        "Affiliation",
        "ResearchGroup",
        "PersonalMembership",
        "NetworkPartnerApplication",
        "Agreement",
    }


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_changelist_and_add_pages_load(staff, model):
    assert staff.get(_url(model)).status_code == 200
    expected = 403 if model is NetworkPartnerApplication else 200
    assert staff.get(_url(model, "add")).status_code == expected


def test_change_pages_load(staff):
    org = f.make_organization()
    user = f.make_member(organization=org)
    objects = [
        org,
        user.affiliations.get(),
        org.agreements.get(),
        f.personal_membership(user),
        services.create_research_group(name="G", by=user, members=[user]),
        org.signatories.create(name="Signer"),
    ]
    other = f.make_organization(membership=MembershipLevel.NONE)
    f.affiliate(user, other)
    objects.append(services.apply_network_partner(user, other, "Why"))
    for obj in objects:
        assert staff.get(_url(type(obj), "change", obj.pk)).status_code == 200, obj


def test_organization_list_filters(staff):
    response = staff.get(_url(Organization))
    filters = {spec.title for spec in response.context["cl"].filter_specs}
    assert {"membership", "type", "verified by staff", "country"} <= filters


def test_the_admin_needs_staff():
    client = Client()
    client.force_login(f.make_member())
    response = client.get(_url(Organization))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_set_up_an_organization_with_signatory_and_members_then_a_member_reaches_consortium(
    staff, director, settings
):
    person = f.make_user("astrid")
    f.verify_identity(person)
    f.accept_undertaking(person)
    f.give_mfa(person)

    page = staff.get(_url(Organization, "add"))
    prefixes = [inline.formset.prefix for inline in page.context["inline_admin_formsets"]]
    assert prefixes == ["signatories", "affiliations"]
    response = staff.post(
        _url(Organization, "add"),
        {
            "name": "Karolinska Example",
            "organization_number": "202100-1000",
            "country": "SE",
            "kind": "university",
            "membership": "partner",
            "fee_status": "not_applicable",
            "fee_waiver_reason": "",
            "verified": "on",
            **_management("signatories", 1),
            "signatories-0-name": "Ole Petter Ottersen",
            "signatories-0-title": "President",
            "signatories-0-email": "president@ki.example.org",
            **_management("affiliations", 1),
            "affiliations-0-user": str(person.pk),
            "affiliations-0-role": "responsible_researcher",
            "affiliations-0-start": f.days(-1).isoformat(),
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    org = Organization.objects.get(name="Karolinska Example")
    assert org.verified and org.created_by == director
    assert org.signatories.get().name == "Ole Petter Ottersen"
    affiliation = Affiliation.objects.get(user=person)
    assert affiliation.confirmed_by == director and affiliation.confirmed_at is not None
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "organizations.organization.create",
        "organizations.signatory.add",
        "organizations.affiliation.add",
    } <= actions

    member = Client()
    member.force_login(person)
    assert member.get("/consortium/").status_code == 403  # no agreement yet

    response = staff.post(
        _url(Agreement, "add"),
        {
            "kind": "partner_contract",
            "title": "AIDA partner contract",
            "parties": [org.pk],
            "includes_non_disclosure": "on",
            "valid_from": f.days(-1).isoformat(),
            "valid_until": "",
            "upload": f.pdf_upload(),
        },
    )
    assert response.status_code == 302
    page = member.get("/consortium/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Karolinska Example" in text and "Ole Petter Ottersen" in text


def test_uploading_an_agreement_stores_the_file_with_its_hash(staff, director, settings):
    org = f.make_organization()
    content = f.PDF + b"% signed by both parties\n" * 1000
    response = staff.post(
        _url(Agreement, "add"),
        {
            "kind": "data_sharing_agreement",
            "title": "DSA 2025-04",
            "parties": [org.pk],
            "includes_non_disclosure": "on",
            "valid_from": f.today().isoformat(),
            "upload": f.pdf_upload(content, "DSA signed.pdf"),
            # Read-only fields cannot be set from the form.
            "sha256": "0" * 64,
            "uploaded_by": "",
        },
    )
    assert response.status_code == 302
    agreement = Agreement.objects.get()
    digest = hashlib.sha256(content).hexdigest()
    assert agreement.sha256 == digest
    assert agreement.uploaded_by == director
    assert agreement.original_filename == "DSA signed.pdf"
    assert list(agreement.parties.all()) == [org]
    stored = Path(settings.MEDIA_ROOT) / agreement.signed_file.name
    assert stored.read_bytes() == content
    assert _files(settings) == [stored]
    assert AuditEvent.objects.filter(action="organizations.agreement.file").count() == 1

    change = staff.get(_url(Agreement, "change", agreement.pk)).content.decode()
    assert digest in change and "DSA signed.pdf" in change
    assert 'name="sha256"' not in change and 'name="uploaded_by"' not in change

    download = staff.get(reverse("admin:organizations_agreement_signed_file", args=[agreement.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == content
    assert "attachment" in download["Content-Disposition"]
    event = AuditEvent.objects.get(action="organizations.agreement.download")
    assert event.actor == director and event.data["sha256"] == digest


def test_uploading_a_file_that_is_not_a_pdf_is_refused_with_a_clear_message(staff, settings):
    org = f.make_organization()
    response = staff.post(
        _url(Agreement, "add"),
        {
            "kind": "partner_contract",
            "title": "Contract",
            "parties": [org.pk],
            "includes_non_disclosure": "on",
            "valid_from": f.today().isoformat(),
            "upload": f.pdf_upload(b"PK\x03\x04word document", "contract.pdf"),
        },
    )
    assert response.status_code == 200
    assert "Only PDF files are accepted, and this file is not a PDF." in response.content.decode()
    assert not Agreement.objects.exists()
    assert _files(settings) == []


def test_the_signed_file_needs_view_permission(director):
    agreement = services.file_agreement(
        "partner_contract", "C", [f.make_organization()], f.today(), None, f.pdf_upload(), director
    )
    other = f.make_user(staff=True)
    f.give_mfa(other)
    client = Client()
    client.force_login(other)
    url = reverse("admin:organizations_agreement_signed_file", args=[agreement.pk])
    assert client.get(url).status_code == 403
    assert not AuditEvent.objects.filter(action="organizations.agreement.download").exists()


def test_editing_an_agreement_goes_through_the_service(staff):
    one, two = f.make_organization(), f.make_organization()
    agreement = f.make_agreement([one], title="Old title")
    response = staff.post(
        _url(Agreement, "change", agreement.pk),
        {
            "kind": agreement.kind,
            "title": "New title",
            "parties": [one.pk, two.pk],
            "includes_non_disclosure": "on",
            "valid_from": agreement.valid_from.isoformat(),
            "valid_until": "",
        },
    )
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.title == "New title" and agreement.parties.count() == 2
    event = AuditEvent.objects.get(action="organizations.agreement.amend")
    assert event.data["changes"]["title"] == {"before": "Old title", "after": "New title"}


def test_terminate_action(staff):
    agreement = f.make_agreement([f.make_organization()])
    page = _action(staff, Agreement, "terminate_selected", [agreement])
    assert b"Terminate agreements" in page.content
    _action(
        staff,
        Agreement,
        "terminate_selected",
        [agreement],
        apply="yes",
        on=f.today().isoformat(),
        reason="Contract ended",
    )
    agreement.refresh_from_db()
    assert agreement.terminated_at == f.today()
    assert agreement.termination_reason == "Contract ended"


def test_verify_action(staff):
    org = f.make_organization(verified=False)
    done = f.make_organization(verified=True, name="Already")
    response = _action(staff, Organization, "verify_selected", [org, done])
    org.refresh_from_db()
    assert org.verified
    text = " ".join(_messages(response))
    assert "1 organization verified." in text and "already verified" in text


def test_confirm_affiliation_action(staff, director):
    named = services.name_organization(f.make_user(), "New Lab", "SE", "")
    _action(staff, Affiliation, "confirm_selected", [named.affiliation])
    named.affiliation.refresh_from_db()
    assert named.affiliation.confirmed_by == director


def test_end_membership_action_ends_access(staff):
    user = f.make_member(organization=f.make_organization(membership=MembershipLevel.NONE))
    membership = f.personal_membership(user)
    _action(
        staff,
        PersonalMembership,
        "end_selected",
        [membership],
        apply="yes",
        last_day=f.days(-1).isoformat(),
    )
    membership.refresh_from_db()
    assert membership.end == f.days(-1)
    from aidahub.web.organizations.policies import nonpublic_access

    assert not nonpublic_access(user).allowed


def test_recording_a_personal_membership_in_the_admin(staff, director):
    user = f.make_user()
    response = staff.post(
        _url(PersonalMembership, "add"),
        {
            "user": user.pk,
            "basis": "clinical_evaluation",
            "activity": "Stroke CT evaluation",
            "start": f.today().isoformat(),
            "end": f.days(90).isoformat(),
        },
    )
    assert response.status_code == 302
    membership = PersonalMembership.objects.get()
    assert membership.recorded_by == director
    assert AuditEvent.objects.filter(action="organizations.personal_membership.record").exists()


def test_research_group_members_changed_in_the_admin_are_recorded(staff):
    a, b = f.make_user(), f.make_user()
    response = staff.post(
        _url(ResearchGroup, "add"), {"name": "Cardiac MR", "description": "", "members": [a.pk]}
    )
    assert response.status_code == 302
    group = ResearchGroup.objects.get()
    assert list(group.members.all()) == [a]
    response = staff.post(
        _url(ResearchGroup, "change", group.pk),
        {"name": "Cardiac MR", "description": "", "members": [b.pk]},
    )
    assert response.status_code == 302
    assert list(group.members.all()) == [b]
    event = AuditEvent.objects.get(action="organizations.research_group.members")
    assert event.data == {"members_added": [b.pk], "members_removed": [a.pk]}


def _application(waiver=False):
    org = f.make_organization(membership=MembershipLevel.NONE)
    user = f.make_user()
    f.affiliate(user, org)
    reason = "Shares prioritized data" if waiver else ""
    return services.apply_network_partner(user, org, "Why", waiver, reason)


def test_approve_action_with_waiver(staff, django_capture_on_commit_callbacks, mailoutbox):
    application = _application(waiver=True)
    page = _action(staff, NetworkPartnerApplication, "approve_selected", [application])
    assert b"Approve applications" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        _action(
            staff,
            NetworkPartnerApplication,
            "approve_selected",
            [application],
            apply="yes",
            note="Welcome aboard",
            grant_waiver="on",
        )
    application.refresh_from_db()
    assert application.state == ApplicationState.APPROVED
    org = application.organization
    org.refresh_from_db()
    assert (org.membership, org.fee_status) == (MembershipLevel.NETWORK_PARTNER, FeeStatus.WAIVED)
    assert org.fee_waiver_reason == "Shares prioritized data"
    assert mailoutbox[-1].to == [application.applicant.email]


def test_reject_action_needs_a_reason_and_refuses_decided_ones(staff):
    application = _application()
    decided = _application()
    services.withdraw_application(decided, decided.applicant)
    page = _action(
        staff, NetworkPartnerApplication, "reject_selected", [application], apply="yes", note=""
    )
    assert b"Reject applications" in page.content  # the form asks again
    application.refresh_from_db()
    assert application.state == ApplicationState.SUBMITTED
    response = _action(
        staff,
        NetworkPartnerApplication,
        "reject_selected",
        [application, decided],
        apply="yes",
        note="Outside medical imaging",
    )
    application.refresh_from_db()
    assert application.state == ApplicationState.REJECTED
    assert any("withdrawn" in m for m in _messages(response))


def test_applications_cannot_be_edited_or_deleted(staff):
    application = _application()
    change = staff.get(_url(NetworkPartnerApplication, "change", application.pk))
    assert 'name="state"' not in change.content.decode()
    assert staff.get(_url(NetworkPartnerApplication, "delete", application.pk)).status_code == 403


def test_bulk_delete_is_not_offered(staff):
    response = staff.get(_url(Organization))
    assert "delete_selected" not in response.content.decode()


def test_organization_edits_are_audited_with_before_and_after(staff):
    org = f.make_organization(name="Old Name", organization_number="")
    page = staff.get(_url(Organization, "change", org.pk))
    assert page.status_code == 200
    response = staff.post(
        _url(Organization, "change", org.pk),
        {
            "name": "New Name",
            "organization_number": "",
            "country": "SE",
            "kind": "university",
            "membership": "partner",
            "fee_status": "not_applicable",
            "fee_waiver_reason": "",
            "verified": "on",
            **_management("signatories", 0),
            **_management("affiliations", 0),
        },
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="organizations.organization.change")
    assert event.data["changes"]["name"] == {"before": "Old Name", "after": "New Name"}


def test_a_waiver_without_reason_is_refused_by_the_form(staff):
    response = staff.post(
        _url(Organization, "add"),
        {
            "name": "Waived Lab",
            "country": "SE",
            "kind": "other",
            "membership": "network_partner",
            "fee_status": "waived",
            "fee_waiver_reason": "",
            **_management("signatories", 0),
            **_management("affiliations", 0),
        },
    )
    assert response.status_code == 200
    assert not Organization.objects.exists()
