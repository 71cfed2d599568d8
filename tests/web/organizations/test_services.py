"""Services for organizations, affiliations, memberships, signatories and research groups:
each checks the state, writes its audit event with before/after values, and notifies."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from aidahub.web.audit.models import AuditEvent
from aidahub.web.organizations import services
from aidahub.web.organizations.models import (
    Affiliation,
    MembershipBasis,
    Organization,
    PersonalMembership,
)
from aidahub.web.organizations.policies import Requirement, nonpublic_access
from tests.web.organizations import factories as f

pytestmark = pytest.mark.django_db


def _event(action):
    return AuditEvent.objects.filter(action=action).latest("id")


def test_create_organization_is_verified_and_audited():
    staff = f.make_user(staff=True)
    org = services.create_organization(
        by=staff, name="  Linköping   University ", organization_number="202100-3096"
    )
    assert org.name == "Linköping University"
    assert org.verified and org.created_by == staff
    event = _event("organizations.organization.create")
    assert event.actor == staff
    assert event.data["changes"]["name"] == {"before": None, "after": "Linköping University"}


def test_verify_organization_once():
    staff = f.make_user(staff=True)
    org = f.make_organization(verified=False)
    services.verify_organization(org, by=staff)
    org.refresh_from_db()
    assert org.verified
    assert _event("organizations.organization.verify").data["changes"] == {
        "verified": {"before": False, "after": True}
    }
    with pytest.raises(ValidationError, match="already verified"):
        services.verify_organization(org, by=staff)


@pytest.mark.parametrize(
    ("name", "country", "number"),
    [
        ("LINKÖPING UNIVERSITY", "SE", ""),
        (" linköping  university", "se", ""),
        ("LiU", "SE", "2021003096"),
        ("Some other name", "SE", "202100 3096"),
    ],
)
def test_naming_a_verified_organization_matches_it(
    name, country, number, mailoutbox, django_capture_on_commit_callbacks
):
    org = f.make_organization("Linköping University", organization_number="202100-3096")
    user = f.make_user()
    with django_capture_on_commit_callbacks(execute=True):
        named = services.name_organization(user, name, country, number)
    assert named.organization == org and not named.created
    assert named.affiliation.user == user and not named.affiliation.is_confirmed
    assert Organization.objects.count() == 1
    assert mailoutbox == []
    assert _event("organizations.affiliation.claim").actor == user


def test_the_same_name_in_another_country_is_another_organization():
    f.make_organization("University Hospital", country="SE")
    named = services.name_organization(f.make_user(), "University Hospital", "NO", "")
    assert named.created and named.organization.country == "NO"


def test_the_same_number_in_another_country_is_another_organization():
    f.make_organization("Example AB", organization_number="556000-0000", country="SE")
    named = services.name_organization(f.make_user(), "Example AS", "NO", "556000-0000")
    assert named.created and named.organization.country == "NO"


def test_naming_a_new_organization_records_it_unverified_and_tells_staff(
    django_capture_on_commit_callbacks,
):
    f.make_user("director2", staff=True, email="staff@hub.example.org")
    user = f.make_user()
    with django_capture_on_commit_callbacks(execute=True):
        named = services.name_organization(user, "New Imaging Lab", "DE", "")
    org = named.organization
    assert named.created and not org.verified and org.created_by == user
    assert len(mail.outbox) == 1
    assert "New Imaging Lab" in mail.outbox[0].subject
    assert "staff@hub.example.org" in mail.outbox[0].to
    assert _event("organizations.organization.name").data["changes"]["verified"]["after"] is False
    # The person is not a member through it: neither the organization nor the tie is checked.
    assert Requirement.MEMBERSHIP in nonpublic_access(user).missing


def test_naming_an_unverified_organization_again_reuses_it():
    first = services.name_organization(f.make_user(), "New Imaging Lab", "DE", "HRB 1234")
    second = services.name_organization(f.make_user(), "new imaging lab", "DE", "")
    assert second.organization == first.organization and not second.created


def test_naming_twice_does_not_duplicate_the_affiliation():
    user = f.make_user()
    one = services.name_organization(user, "New Imaging Lab", "DE", "")
    two = services.name_organization(user, "New Imaging Lab", "DE", "")
    assert one.affiliation == two.affiliation
    assert Affiliation.objects.filter(user=user).count() == 1


@pytest.mark.parametrize(("name", "country"), [("", "SE"), ("   ", "SE"), ("Lab", "Sweden")])
def test_naming_needs_a_name_and_a_country_code(name, country):
    with pytest.raises(ValidationError):
        services.name_organization(f.make_user(), name, country, "")
    assert not Organization.objects.exists()


def test_choose_organization_only_among_verified():
    with pytest.raises(ValidationError):
        services.choose_organization(f.make_user(), f.make_organization(verified=False))


def test_staff_confirm_a_named_affiliation_and_the_person_becomes_a_member():
    staff = f.make_user(staff=True)
    org = f.make_organization()
    f.make_agreement([org])
    user = f.make_member(organization=f.make_organization(membership="none"))
    user.affiliations.all().delete()
    affiliation = services.choose_organization(user, org)
    assert not nonpublic_access(user).allowed
    services.confirm_affiliation(affiliation, by=staff)
    assert nonpublic_access(user).allowed
    with pytest.raises(ValidationError, match="already confirmed"):
        services.confirm_affiliation(affiliation, by=staff)


def test_add_and_end_affiliation():
    staff = f.make_user(staff=True)
    org = f.make_organization()
    f.make_agreement([org])
    user = f.make_member(organization=f.make_organization(membership="none"))
    user.affiliations.all().delete()
    affiliation = services.add_affiliation(user, org, by=staff, role="clinician")
    assert affiliation.is_confirmed and affiliation.confirmed_by == staff
    assert nonpublic_access(user).allowed
    assert _event("organizations.affiliation.add").data["changes"]["role"]["after"] == "clinician"

    services.end_affiliation(affiliation, last_day=f.days(-1), by=staff)
    assert _event("organizations.affiliation.end").data["changes"]["end"] == {
        "before": None,
        "after": f.days(-1).isoformat(),
    }
    assert nonpublic_access(user).missing == (Requirement.MEMBERSHIP, Requirement.AGREEMENT)
    with pytest.raises(ValidationError, match="already ended"):
        services.end_affiliation(affiliation, last_day=f.today(), by=staff)


def test_an_affiliation_cannot_end_before_it_starts():
    staff = f.make_user(staff=True)
    with pytest.raises(ValidationError):
        services.add_affiliation(
            f.make_user(), f.make_organization(), by=staff, start=f.today(), end=f.days(-1)
        )


def test_personal_membership_recorded_and_ended():
    staff = f.make_user(staff=True)
    user = f.make_member(organization=f.make_organization(membership="none"))
    membership = services.record_personal_membership(
        user,
        basis=MembershipBasis.FELLOWSHIP,
        activity="AIDA clinical fellowship",
        start=f.days(-10),
        end=f.days(100),
        by=staff,
    )
    assert membership.recorded_by == staff
    assert nonpublic_access(user).allowed
    event = _event("organizations.personal_membership.record")
    assert event.data["changes"]["end"]["after"] == f.days(100).isoformat()

    services.end_personal_membership(membership, last_day=f.days(-1), by=staff)
    assert nonpublic_access(user).missing == (Requirement.MEMBERSHIP,)
    assert _event("organizations.personal_membership.end").data["changes"]["end"] == {
        "before": f.days(100).isoformat(),
        "after": f.days(-1).isoformat(),
    }


@pytest.mark.parametrize(("start", "end"), [(0, -1)])
def test_personal_membership_cannot_end_before_it_starts(start, end):
    with pytest.raises(ValidationError):
        services.record_personal_membership(
            f.make_user(),
            basis=MembershipBasis.PROJECT,
            activity="X",
            start=f.days(start),
            end=f.days(end),
            by=f.make_user(staff=True),
        )
    assert not PersonalMembership.objects.exists()


def test_ending_a_membership_checks_its_dates():
    staff = f.make_user(staff=True)
    membership = f.personal_membership(f.make_user(), start=f.days(-5), end=f.days(5))
    with pytest.raises(ValidationError, match="before it starts"):
        services.end_personal_membership(membership, last_day=f.days(-6), by=staff)
    with pytest.raises(ValidationError, match="already ends"):
        services.end_personal_membership(membership, last_day=f.days(6), by=staff)


def test_signatories_added_and_removed():
    staff = f.make_user(staff=True)
    org = f.make_organization()
    signatory = services.add_signatory(
        org, name="Vice-Chancellor Example", title="Vice-chancellor", by=staff
    )
    assert list(org.signatories.all()) == [signatory]
    assert _event("organizations.signatory.add").data["organization"] == org.pk
    services.remove_signatory(signatory, by=staff)
    assert not org.signatories.exists()
    removed = _event("organizations.signatory.remove")
    assert removed.data["changes"]["name"]["before"] == "Vice-Chancellor Example"


def test_research_groups_and_their_members():
    staff = f.make_user(staff=True)
    a, b, c = f.make_user(), f.make_user(), f.make_user()
    group = services.create_research_group(name="Lung CT", by=staff, lead=a, members=[a, b])
    assert set(group.members.all()) == {a, b}
    services.add_group_member(group, c, by=staff)
    with pytest.raises(ValidationError, match="already a member"):
        services.add_group_member(group, c, by=staff)
    services.remove_group_member(group, b, by=staff)
    with pytest.raises(ValidationError, match="not a member"):
        services.remove_group_member(group, b, by=staff)
    assert set(group.members.all()) == {a, c}
    services.set_group_members(group, [b], by=staff)
    assert list(group.members.all()) == [b]
    event = _event("organizations.research_group.members")
    assert event.data == {"members_added": [b.pk], "members_removed": sorted([a.pk, c.pk])}
    before = AuditEvent.objects.count()
    services.set_group_members(group, [b], by=staff)  # nothing changes, nothing recorded
    assert AuditEvent.objects.count() == before
