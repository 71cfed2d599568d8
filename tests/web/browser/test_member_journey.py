"""From an account to the members' area, driven through the web pages as people use them.

Staff sign in with their authenticator code, enter the researcher's organization in the
admin (with its signatory and the researcher's affiliation), record how they checked the
researcher's identity and file the signed partner contract. The researcher then signs in,
is refused the members' area with what is still missing, accepts the confidentiality
undertaking, sets up an authenticator app and is let in.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import unquote

import pytest
from django.utils import timezone

from aidahub.web.accounts.models import IdentityVerification
from aidahub.web.organizations.models import Affiliation, Agreement, Organization
from aidahub.web.organizations.policies import Requirement, nonpublic_access
from tests.web import roles

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ORGANIZATION = "Example University Hospital"
# Enough of a PDF for the upload check, which reads the signature.
SIGNED_PDF = b"%PDF-1.4\n% signed partner contract\n%%EOF\n"


def sign_in(page, user, secret: str | None = None) -> None:
    """allauth's sign-in page, then its two-factor step when the account has one."""
    page.goto("/accounts/login/")
    page.fill("[name=login]", user.email)
    page.fill("[name=password]", roles.PASSWORD)
    submit(page)
    if secret is not None:
        assert "/accounts/2fa/authenticate/" in page.url, f"no two-factor step: {page.url}"
        page.fill("[name=code]", roles.totp_code_to_type(secret))
        submit(page)
        assert "/accounts/2fa/authenticate/" not in page.url, _errors(page)
    assert "/accounts/login/" not in page.url, _errors(page)


def submit(page) -> None:
    """Send the page's own form (not the sign-out button in the header) and wait."""
    with page.expect_navigation():
        page.locator("main form [type=submit]").first.click()


def _errors(page) -> str:
    found = page.locator(".errornote, .errorlist, .alert, .messages").all_inner_texts()
    return f"{page.url}: {' | '.join(t.strip() for t in found) or 'no error shown'}"


def admin_save(page) -> None:
    with page.expect_navigation():
        page.locator("[name=_save]").click()
    assert page.locator(".messagelist .success").count(), _errors(page)


def add_inline_row(page, group: str) -> None:
    page.locator(f"#{group}-group .add-row a").click()


def enter_organization(page, member) -> Organization:
    page.goto("/admin/organizations/organization/add/")
    page.fill("#id_name", ORGANIZATION)
    page.fill("#id_organization_number", "202100-0001")
    page.select_option("#id_kind", "healthcare")
    page.select_option("#id_membership", "partner")
    assert page.is_checked("#id_verified")  # staff check what they enter themselves
    add_inline_row(page, "signatories")
    page.fill("[name=signatories-0-name]", "Vera Vice-Chancellor")
    page.fill("[name=signatories-0-title]", "Vice-chancellor")
    add_inline_row(page, "affiliations")
    page.fill("[name=affiliations-0-user]", str(member.pk))
    page.select_option("[name=affiliations-0-role]", "researcher")
    admin_save(page)
    return Organization.objects.get(name=ORGANIZATION)


def record_identity_check(page, member) -> None:
    page.goto("/admin/accounts/identityverification/add/")
    page.fill("#id_user", str(member.pk))
    page.fill("#id_evidence", "Passport shown at the AIDA days.")
    admin_save(page)


def file_agreement(page, org: Organization, tmp_path) -> None:
    page.goto("/admin/organizations/agreement/add/")
    page.select_option("#id_kind", "partner_contract")
    page.fill("#id_title", "Partner contract 2025")
    page.select_option("#id_parties_from", label=org.name)
    page.locator("#id_parties_add").click()
    assert page.is_checked("#id_includes_non_disclosure")
    page.fill("#id_valid_from", (timezone.localdate() - dt.timedelta(days=1)).isoformat())
    signed = tmp_path / "partner-contract.pdf"
    signed.write_bytes(SIGNED_PDF)
    page.set_input_files("#id_upload", signed)
    admin_save(page)


def confirm_password(page) -> None:
    """allauth asks for the password again before a change to two-factor authentication,
    however recent the sign-in."""
    if "/accounts/reauthenticate/" in page.url:
        page.fill("[name=password]", roles.PASSWORD)
        submit(page)


def set_up_authenticator(page) -> None:
    if "/accounts/2fa/totp/activate/" not in page.url:
        page.goto("/accounts/2fa/totp/activate/")
    confirm_password(page)
    assert "/accounts/2fa/totp/activate/" in page.url, f"not the set-up page: {page.url}"
    secret = page.locator("#authenticator_secret").input_value()
    assert re.fullmatch(r"[A-Z2-7]+=*", secret), secret
    page.fill("[name=code]", roles.totp_code_to_type(secret))
    submit(page)


def missing_items(page) -> list[str]:
    return [t.strip() for t in page.locator(".checklist li.missing").all_inner_texts()]


def open_consortium(page) -> int:
    response = page.goto("/consortium/")
    return response.status


@pytest.fixture
def staff():
    user = roles.make_staff("director", mfa=False)
    return user, roles.add_totp(user)


@pytest.fixture
def researcher():
    return roles.create_user("researcher")


def test_staff_sign_in_asks_for_the_authenticator_code(page, staff):
    user, secret = staff
    sign_in(page, user, secret)
    page.goto("/admin/")
    assert page.url.endswith("/admin/"), page.url
    assert page.locator("#site-name").is_visible()


def test_staff_without_an_authenticator_are_sent_to_set_one_up(page):
    sign_in(page, roles.make_staff("new-director", mfa=False))
    page.goto("/admin/")
    assert "2fa/totp/activate" in unquote(page.url), page.url  # perhaps via the password
    set_up_authenticator(page)
    page.goto("/admin/")
    assert page.url.endswith("/admin/"), page.url


def test_staff_enter_an_organization_and_file_its_agreement(page, staff, researcher, tmp_path):
    user, secret = staff
    sign_in(page, user, secret)
    org = enter_organization(page, researcher)
    record_identity_check(page, researcher)
    file_agreement(page, org, tmp_path)

    assert org.verified and org.membership == "partner"
    assert org.signatories.get().name == "Vera Vice-Chancellor"
    affiliation = Affiliation.objects.get(user=researcher, organization=org)
    assert affiliation.confirmed_by == user  # staff adding a person confirm them
    assert IdentityVerification.objects.get(user=researcher).verified_by == user
    agreement = Agreement.objects.get(parties=org)
    assert agreement.binds_non_disclosure and agreement.is_valid(timezone.localdate())
    assert nonpublic_access(researcher).missing == (
        Requirement.UNDERTAKING,
        Requirement.MFA,
    )


def test_a_researcher_meets_the_requirements_and_enters_the_members_area(
    page, new_page, staff, researcher, tmp_path
):
    user, secret = staff
    sign_in(page, user, secret)
    org = enter_organization(page, researcher)
    record_identity_check(page, researcher)
    file_agreement(page, org, tmp_path)

    member = new_page()  # the researcher, in a browser of their own
    sign_in(member, researcher)
    assert open_consortium(member) == 403
    missing = missing_items(member)
    assert len(missing) == 2, missing
    assert "Confidentiality undertaking" in missing[0]
    assert "Two-factor authentication" in missing[1]

    member.goto("/accounts/undertaking/?next=/consortium/")
    member.check("[name=accept]")
    submit(member)
    assert open_consortium(member) == 403
    assert len(missing_items(member)) == 1

    set_up_authenticator(member)
    assert open_consortium(member) == 200, _errors(member)
    assert ORGANIZATION in member.content()
    shot = tmp_path / "consortium.png"
    member.screenshot(path=shot)
    assert shot.read_bytes().startswith(b"\x89PNG")
    assert nonpublic_access(researcher).allowed
