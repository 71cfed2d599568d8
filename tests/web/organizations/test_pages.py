"""The membership pages and the members' area, driven through the test client."""

import pytest
from django.test import Client
from django.urls import reverse

from aidahub.web.audit.models import AuditEvent
from aidahub.web.organizations.models import (
    Affiliation,
    MembershipLevel,
    NetworkPartnerApplication,
    Organization,
    ResearchGroup,
    Signatory,
)
from aidahub.web.organizations.policies import MESSAGES, Requirement
from tests.web.organizations import factories as f

pytestmark = pytest.mark.django_db

MEMBERSHIP = "/membership/"
ORGANIZATION = "/membership/organization/"
NETWORK = "/membership/network-partner/"
CONSORTIUM = "/consortium/"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _text(response) -> str:
    return response.content.decode()


def test_the_addresses():
    assert reverse("organizations:membership") == MEMBERSHIP
    assert reverse("organizations:organization") == ORGANIZATION
    assert reverse("organizations:network-partner") == NETWORK
    assert reverse("organizations:consortium") == CONSORTIUM


@pytest.mark.parametrize("url", [MEMBERSHIP, ORGANIZATION, NETWORK, CONSORTIUM])
def test_pages_need_a_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert response["Location"].endswith(f"?next={url}")


# --- /consortium/ ---------------------------------------------------------------------------


def test_anonymous_refusal_is_recorded(client):
    client.get(CONSORTIUM)
    event = AuditEvent.objects.get(action="security.denied")
    assert event.data == {"path": CONSORTIUM, "missing": ["account"]}
    assert event.actor is None


def test_a_member_sees_the_members_area_and_the_view_is_recorded():
    org = f.make_organization("Linköping University")
    Signatory.objects.create(organization=org, name="Jan-Ingvar Jönsson", title="Rector")
    f.make_organization("Not A Member", membership=MembershipLevel.NONE)
    f.make_organization("Unverified Partner", verified=False)
    member = f.make_member("astrid", organization=org)
    group = ResearchGroup.objects.create(name="Lung CT group")
    group.members.add(member)
    response = _client(member).get(CONSORTIUM)
    assert response.status_code == 200
    text = _text(response)
    assert "Linköping University" in text and "Jan-Ingvar Jönsson" in text and "Rector" in text
    assert "partner" in text
    assert "Lung CT group" in text and "astrid" in text
    assert "Not A Member" not in text and "Unverified Partner" not in text
    event = AuditEvent.objects.get(action="organizations.consortium.view")
    assert event.actor == member and event.request_path == CONSORTIUM
    assert not AuditEvent.objects.filter(action="security.denied").exists()


@pytest.mark.parametrize(
    "lacking",
    [
        Requirement.MEMBERSHIP,
        Requirement.IDENTITY,
        Requirement.UNDERTAKING,
        Requirement.MFA,
        Requirement.AGREEMENT,
    ],
)
def test_a_member_lacking_one_requirement_is_told_what_and_how(lacking):
    org = f.make_organization("Secret Partner University")
    member = f.make_member(organization=org)
    if lacking is Requirement.MEMBERSHIP:
        Organization.objects.filter(pk=org.pk).update(membership=MembershipLevel.NONE)
    elif lacking is Requirement.IDENTITY:
        member.identity_verifications.all().delete()
    elif lacking is Requirement.UNDERTAKING:
        member.undertakings.all().delete()
    elif lacking is Requirement.MFA:
        from allauth.mfa.models import Authenticator

        Authenticator.objects.filter(user=member).delete()
    else:
        org.agreements.all().delete()
    response = _client(member).get(CONSORTIUM)
    assert response.status_code == 403
    text = _text(response)
    assert "Secret Partner University" not in text
    from django.utils.html import escape

    assert escape(str(MESSAGES[lacking])) in text
    for other in set(MESSAGES) - {lacking}:
        assert escape(str(MESSAGES[other])) not in text
    links = {
        Requirement.MEMBERSHIP: ORGANIZATION,
        Requirement.IDENTITY: "mailto:",
        Requirement.UNDERTAKING: "/accounts/undertaking/?next=%2Fconsortium%2F",
        Requirement.MFA: reverse("mfa_activate_totp"),
        Requirement.AGREEMENT: NETWORK,
    }
    assert f'href="{links[lacking]}' in text
    event = AuditEvent.objects.get(action="security.denied")
    assert event.data == {"path": CONSORTIUM, "missing": [lacking.value]}
    assert event.actor == member
    assert not AuditEvent.objects.filter(action="organizations.consortium.view").exists()


def test_a_newcomer_is_told_everything_they_lack():
    response = _client(f.make_user()).get(CONSORTIUM)
    assert response.status_code == 403
    assert AuditEvent.objects.get(action="security.denied").data["missing"] == [
        "membership",
        "identity",
        "undertaking",
        "mfa",
        "agreement",
    ]


@pytest.mark.parametrize(("mfa", "status"), [(False, 403), (True, 200)])
def test_staff_need_mfa(mfa, status):
    staff = f.make_user(staff=True)
    if mfa:
        f.give_mfa(staff)
    assert _client(staff).get(CONSORTIUM).status_code == status


def test_an_inactive_member_is_sent_to_sign_in():
    member = f.make_member()
    client = _client(member)
    member.is_active = False
    member.save()
    response = client.get(CONSORTIUM)
    assert response.status_code == 302


def test_a_member_whose_membership_ended_is_refused():
    org = f.make_organization()
    member = f.make_member(organization=org)
    client = _client(member)
    assert client.get(CONSORTIUM).status_code == 200
    Affiliation.objects.filter(user=member).update(end=f.days(-1))
    assert client.get(CONSORTIUM).status_code == 403


def test_repeated_refusals_each_leave_an_event():
    client = _client(f.make_user())
    for _ in range(3):
        client.get(CONSORTIUM)
    assert AuditEvent.objects.filter(action="security.denied").count() == 3


def test_the_members_area_only_answers_get():
    response = _client(f.make_member()).post(CONSORTIUM)
    assert response.status_code == 405


# --- /membership/ ---------------------------------------------------------------------------


def test_membership_page_shows_organizations_memberships_agreements_and_checklist():
    org = f.make_organization("Chalmers Example")
    member = f.make_member(organization=org)
    f.personal_membership(member, start=f.days(-3), end=f.days(60))
    pending = f.make_organization("Pending Lab", verified=False)
    f.affiliate(member, pending, confirmed=False)
    text = _text(_client(member).get(MEMBERSHIP))
    assert "Chalmers Example" in text and "Pending Lab" in text
    assert "organization unverified until staff check it" in text
    assert "waiting for staff to confirm" in text
    assert "Lung nodule detection" in text and f.days(60).isoformat() in text
    assert org.agreements.get().title in text
    assert "You meet every requirement" in text
    assert text.count("Met:") == 5


def test_membership_checklist_for_a_newcomer_links_each_fix():
    text = _text(_client(f.make_user()).get(MEMBERSHIP))
    assert text.count("Missing:") == 5
    assert f'href="{ORGANIZATION}"' in text
    assert f'href="{NETWORK}"' in text
    assert "/accounts/undertaking/?next=%2Fmembership%2F" in text
    assert reverse("mfa_activate_totp") in text
    assert "Ask the data director to verify your identity" in text


def test_membership_checklist_for_staff_shows_mfa_only():
    text = _text(_client(f.make_user(staff=True)).get(MEMBERSHIP))
    assert text.count("Missing:") == 1 and "Two-factor authentication" in text


# --- /membership/organization/ --------------------------------------------------------------


def test_pick_a_verified_organization():
    org = f.make_organization("Uppsala Example")
    f.make_organization("Hidden Unverified", verified=False)
    user = f.make_user()
    client = _client(user)
    page = _text(client.get(ORGANIZATION))
    assert "Uppsala Example" in page and "Hidden Unverified" not in page
    response = client.post(ORGANIZATION, {"organization": org.pk, "role": "clinician"})
    assert response.status_code == 302 and response["Location"] == MEMBERSHIP
    affiliation = Affiliation.objects.get(user=user)
    assert affiliation.organization == org and affiliation.role == "clinician"
    assert not affiliation.is_confirmed
    assert "counts once staff confirm it" in _text(client.get(MEMBERSHIP))


def test_name_a_new_organization(django_capture_on_commit_callbacks, mailoutbox):
    user = f.make_user()
    client = _client(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            ORGANIZATION,
            {"organization": "", "name": "Imaging Startup AB", "country": "se", "role": "engineer"},
        )
    assert response.status_code == 302
    org = Organization.objects.get(name="Imaging Startup AB")
    assert not org.verified and org.country == "SE"
    assert len(mailoutbox) == 1
    follow = _text(client.get(MEMBERSHIP))
    assert "unverified until staff check it" in follow


def test_naming_needs_a_choice_or_a_name():
    response = _client(f.make_user()).post(ORGANIZATION, {"role": "researcher"})
    assert response.status_code == 200
    assert "Pick your organization from the list, or give its name." in _text(response)
    assert not Affiliation.objects.exists()


def test_naming_an_unknown_organization_id_is_an_error():
    response = _client(f.make_user()).post(ORGANIZATION, {"organization": 99999, "role": "x"})
    assert response.status_code == 200
    assert not Affiliation.objects.exists()


def test_forms_need_the_csrf_token():
    client = Client(enforce_csrf_checks=True)
    client.force_login(f.make_user())
    response = client.post(ORGANIZATION, {"name": "Lab", "country": "SE", "role": "researcher"})
    assert response.status_code == 403
    assert not Organization.objects.exists()


# --- /membership/network-partner/ -----------------------------------------------------------


def test_apply_for_network_partnership_and_see_the_state():
    org = f.make_organization("Small Clinic", membership=MembershipLevel.NONE)
    user = f.make_user()
    f.affiliate(user, org, confirmed=False)
    client = _client(user)
    assert "Small Clinic" in _text(client.get(NETWORK))
    response = client.post(
        NETWORK,
        {
            "organization": org.pk,
            "motivation": "We evaluate AI in mammography.",
            "fee_waiver_requested": "on",
            "fee_waiver_reason": "We share prioritized data",
        },
    )
    assert response.status_code == 302
    application = NetworkPartnerApplication.objects.get()
    assert application.fee_waiver_requested and application.applicant == user
    text = _text(client.get(NETWORK))
    assert "submitted" in text and "We share prioritized data" in text
    assert "None of your current organizations can apply" in text


def test_a_waiver_request_needs_its_reason_on_the_form():
    org = f.make_organization(membership=MembershipLevel.NONE)
    user = f.make_user()
    f.affiliate(user, org)
    response = _client(user).post(
        NETWORK, {"organization": org.pk, "motivation": "Why", "fee_waiver_requested": "on"}
    )
    assert response.status_code == 200
    assert "Say why the fee should be waived." in _text(response)
    assert not NetworkPartnerApplication.objects.exists()


def test_one_cannot_apply_for_someone_elses_organization():
    mine = f.make_organization(membership=MembershipLevel.NONE)
    theirs = f.make_organization(membership=MembershipLevel.NONE)
    user = f.make_user()
    f.affiliate(user, mine)
    response = _client(user).post(NETWORK, {"organization": theirs.pk, "motivation": "Why"})
    assert response.status_code == 200
    assert not NetworkPartnerApplication.objects.exists()


def test_withdraw_ones_own_application_only():
    org = f.make_organization(membership=MembershipLevel.NONE)
    user = f.make_user()
    f.affiliate(user, org)
    client = _client(user)
    client.post(NETWORK, {"organization": org.pk, "motivation": "Why"})
    application = NetworkPartnerApplication.objects.get()
    url = reverse("organizations:withdraw-application", args=[application.pk])
    assert _client(f.make_user()).post(url).status_code == 404
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 302
    application.refresh_from_db()
    assert application.state == "withdrawn"


# --- Hostile text ---------------------------------------------------------------------------

HOSTILE = ('<script>alert("x")</script><img src=x onerror=alert(1)>' + "Å" * 300)[
    :300
]  # the longest allowed


def test_hostile_organization_names_are_escaped_everywhere():
    org = f.make_organization(HOSTILE)
    member = f.make_member(organization=org)
    Signatory.objects.create(organization=org, name="<b>Signer</b>", title="<i>t</i>")
    ResearchGroup.objects.create(name="<svg onload=alert(1)>").members.add(member)
    client = _client(member)
    for url in (MEMBERSHIP, ORGANIZATION, CONSORTIUM):
        text = _text(client.get(url))
        assert "<script>" not in text and "<img src=x" not in text, url
        assert "&lt;script&gt;" in text, url
    consortium = _text(client.get(CONSORTIUM))
    assert "<b>Signer</b>" not in consortium and "&lt;b&gt;Signer&lt;/b&gt;" in consortium
    assert "<svg onload" not in consortium


def test_a_hostile_new_name_is_stored_as_text_and_escaped():
    user = f.make_user()
    client = _client(user)
    client.post(ORGANIZATION, {"name": HOSTILE, "country": "SE", "role": "researcher"})
    org = Organization.objects.get()
    assert org.name == HOSTILE
    assert "<script>" not in _text(client.get(MEMBERSHIP))


def test_a_name_longer_than_the_limit_is_refused_on_the_form():
    response = _client(f.make_user()).post(
        ORGANIZATION, {"name": "A" * 301, "country": "SE", "role": "researcher"}
    )
    assert response.status_code == 200
    assert not Organization.objects.exists()
