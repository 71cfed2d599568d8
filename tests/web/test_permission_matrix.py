"""Who may open which page: every address the hub serves × every role and state → the answer.

``ROWS`` is the hub's permission policy written out as a table, one row per address (a
pattern with example arguments filled in), one expected answer per role of
``tests.web.roles`` (the shape of pretix's ``src/tests/control/test_permissions.py``). The
rules it writes out:

- the public register answers 200 to everyone; a hidden or draft dataset is a staff
  preview and answers 404 to everyone else (another party's private object is not there);
  a withdrawn dataset is a 410 tombstone whose metadata exports still answer;
- staff pages need staff: a signed-out visitor is sent to sign in; a signed-in non-staff
  user gets 404 under /staff/ (the pages do not reveal themselves) and the admin's own
  refusal under /admin/; staff without two-factor authentication are sent to set it up;
- /consortium/ (non-public data) sends a signed-out visitor to sign in, refuses with 403
  whoever ``nonpublic_access`` finds lacking, and admits the full member and staff with MFA;
- /membership/ and a person's own account pages need a sign-in and nothing more.

Deny by default: ``test_every_url_has_a_row`` fails, naming the pattern, when an address
exists without a row. Two groups are covered by samples and a rule instead of a row per
address: the Django admin (``test_every_admin_url_refuses_non_staff``) and allauth's own
pages (``test_every_allauth_url_answers``).

Rows marked ``pending`` name pages other work is adding; while their address is not in the
URLconf their cells are skipped with that reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.admindocs.views import simplify_regex
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404

from aidahub.web.accounts import undertaking
from aidahub.web.accounts.models import IdentityVerification, UndertakingAcceptance
from aidahub.web.audit.services import record
from aidahub.web.organizations.checklist import TITLES
from aidahub.web.organizations.models import (
    Affiliation,
    Agreement,
    NetworkPartnerApplication,
    Organization,
    PersonalMembership,
)
from aidahub.web.organizations.policies import nonpublic_access
from aidahub.web.register import services
from aidahub.web.register.models import Dataset, DatasetVersion, Priority, PriorityList
from tests.factories import make_dataset
from tests.web import roles
from tests.web.roles import (
    ANONYMOUS,
    CLINICAL_COUNCIL,
    INACTIVE,
    ROLES,
    STAFF,
    STAFF_NO_MFA,
)

# -- expected answers ------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """A status, and for a redirect where it leads: a path prefix, or with ``exact`` the
    path itself; with ``back``, ?next= points at the page asked for."""

    status: int
    to: str | None = None
    back: bool = False
    exact: bool = False
    label: str = ""

    def __str__(self) -> str:
        return self.label or str(self.status)

    def mismatch(self, response, asked: str) -> str | None:
        got = response.status_code
        if self.to is None:
            return None if got == self.status else f"expected {self}, got {got}{_where(response)}"
        if got not in (301, 302, 303, 307):
            return f"expected {self}, got {got}"
        location = response["Location"]
        target = urlsplit(location)
        if target.path != self.to if self.exact else not target.path.startswith(self.to):
            return f"expected {self}, got {got} to {location}"
        if self.back and parse_qs(target.query).get("next") != [asked]:
            return f"expected {self} with next={asked}, got {location}"
        return None


@dataclass(frozen=True)
class OneOf:
    """Either answer is right: for the admin, whose refusal is Django's or allauth's."""

    answers: tuple[Answer, ...]
    label: str

    def __str__(self) -> str:
        return self.label

    def mismatch(self, response, asked: str) -> str | None:
        if any(a.mismatch(response, asked) is None for a in self.answers):
            return None
        return f"expected {self}, got {response.status_code}{_where(response)}"


Expected = Answer | OneOf


def _where(response) -> str:
    return f" to {response['Location']}" if response.has_header("Location") else ""


OK = Answer(200)
FORBIDDEN = Answer(403, label="403 refused with reasons")
NOT_FOUND = Answer(404)
NOT_ALLOWED = Answer(405)
GONE = Answer(410, label="410 tombstone")
LOGIN = Answer(302, settings.LOGIN_URL, back=True, label="302 to sign in")
AWAY_FROM_LOGIN = Answer(302, settings.LOGIN_REDIRECT_URL, label="302 to the profile")
TO_HOME = Answer(302, "/", exact=True, label="302 to the home page")
ADMIN_LOGIN = OneOf(
    (Answer(302, "/admin/login/", back=True), Answer(302, settings.LOGIN_URL, back=True)),
    "302 to sign in (admin or allauth)",
)
ADMIN_REFUSED = OneOf((*ADMIN_LOGIN.answers, FORBIDDEN), "302 to sign in or 403")
MFA_SETUP = Answer(302, "/accounts/2fa/totp/activate/", label="302 to set up MFA")

# Roles with no session: Django's backends refuse a closed (inactive) account's session.
SIGNED_OUT = frozenset({ANONYMOUS, INACTIVE})
STAFF_ROLES = frozenset({STAFF_NO_MFA, STAFF})


def everyone(answer) -> dict[str, Expected]:
    return {role: answer for role in ROLES}


def signed_in(answer=OK, *, signed_out=LOGIN) -> dict[str, Expected]:
    return {role: signed_out if role in SIGNED_OUT else answer for role in ROLES}


def staff_preview() -> dict[str, Expected]:
    """Previews are not public: staff see them once two-factor authentication is set up."""
    return {role: OK if role == STAFF else NOT_FOUND for role in ROLES}


def staff_page() -> dict[str, Expected]:
    return {
        **signed_in(NOT_FOUND),
        STAFF_NO_MFA: MFA_SETUP,
        STAFF: OK,
    }


def admin_page(staff=OK) -> dict[str, Expected]:
    return {
        **signed_in(ADMIN_REFUSED, signed_out=ADMIN_LOGIN),
        STAFF_NO_MFA: MFA_SETUP,
        STAFF: staff,
    }


def consortium() -> dict[str, Expected]:
    """Admitted exactly when ``nonpublic_access`` finds nothing missing (roles.MISSING)."""
    return {
        role: LOGIN if role in SIGNED_OUT else (FORBIDDEN if roles.MISSING[role] else OK)
        for role in ROLES
    }


def priorities_editor() -> dict[str, Expected]:
    """The clinical council edits the priority list; staff may record its decisions."""
    editors = {CLINICAL_COUNCIL, STAFF}
    return {
        role: LOGIN if role in SIGNED_OUT else (OK if role in editors else NOT_FOUND)
        for role in ROLES
    }


# The admin's way in is allauth's sign-in, so two-factor authentication applies to it: the
# admin's own page sends a visitor there, refuses a signed-in non-staff user, and sends
# staff on to the admin.
TO_ADMIN = Answer(302, "/admin/", exact=True, label="302 to the admin")
ADMIN_LOGIN_PAGE = {
    **signed_in(FORBIDDEN, signed_out=LOGIN),
    STAFF_NO_MFA: MFA_SETUP,
    STAFF: TO_ADMIN,
}
# Its way out is POST only: a GET signs nobody out. Without a session it leads to the admin
# (which asks for sign-in); it stays open to staff without MFA, so they can leave.
ADMIN_LOGOUT = {
    **signed_in(TO_ADMIN, signed_out=TO_ADMIN),
    STAFF_NO_MFA: NOT_ALLOWED,
    STAFF: NOT_ALLOWED,
}

# -- the table -------------------------------------------------------------------------------

PUBLISHED = "10.5072/perm/published"
HIDDEN = "10.5072/perm/hidden"
DRAFT = "10.5072/perm/draft"
WITHDRAWN = "10.5072/perm/withdrawn"
DOIS = {
    "published": PUBLISHED,
    "published_version": f"{PUBLISHED}.v1.0",
    "preview_version": f"{PUBLISHED}.v2.0",
    "hidden": HIDDEN,
    "draft": DRAFT,
    "withdrawn": WITHDRAWN,
}


@dataclass(frozen=True)
class Row:
    """One address; ``url`` names the objects it needs as {placeholders} (see World)."""

    url: str
    expect: dict[str, Expected]
    # Why the page may be missing yet: the work that is adding it. While it is not in the
    # URLconf, the row's cells are skipped with this reason instead of failing.
    pending: str | None = None
    # A form the page takes ({placeholders} filled as in the URL), and who is refused it
    # when that differs from who is refused the GET.
    post: dict[str, str] | None = field(default=None, compare=False)
    post_expect: dict[str, Expected] | None = field(default=None, compare=False)

    def refused_post(self, role: str) -> Expected | None:
        """The refusal a POST from *role* gets; None when *role* may post."""
        if self.post is None:
            return None
        answer = (self.post_expect or self.expect)[role]
        return None if answer is OK else answer

    @property
    def id(self) -> str:
        return "GET " + self.url.format_map(_Shown())


def _priority_form() -> dict[str, str]:
    return {
        "approved_on": "2025-03-01",
        "approved_by": "Clinical council",
        "note": "",
        "p-TOTAL_FORMS": "1",
        "p-INITIAL_FORMS": "0",
        "p-0-title": "Stroke CT",
        "p-0-description": "",
    }


ROWS: tuple[Row, ...] = (
    # The public register.
    Row("/", everyone(OK)),
    Row("/datasets/", everyone(OK)),
    Row("/metrics/", everyone(OK)),
    Row("/priorities/", everyone(OK)),
    Row("/api/", everyone(OK)),
    Row("/api/1.0/metadata.json", everyone(OK)),
    Row("/oai?verb=Identify", everyone(OK)),
    Row("/robots.txt", everyone(OK)),
    Row("/sitemap.xml", everyone(OK)),
    # Only the register's own images are served; a missing one is simply not there.
    Row("/media/register/no-such-image.png", everyone(NOT_FOUND)),
    Row("/assets/images/no-such-image.png", everyone(NOT_FOUND)),
    # Landing pages by dataset state.
    Row("/{published}", everyone(OK)),
    Row("/{published_version}", everyone(OK)),
    Row("/{preview_version}", staff_preview()),
    Row("/{hidden}", staff_preview()),
    Row("/{draft}", staff_preview()),
    Row("/{withdrawn}", everyone(GONE)),
    # Metadata exports follow the landing page, except that a tombstone's metadata answers.
    Row("/{published}/export/bibtex", everyone(OK)),
    Row("/{published}/export/no-such-format", everyone(NOT_FOUND)),
    Row("/{hidden}/export/datacite-xml", staff_preview()),
    Row("/{draft}/export/datacite-xml", staff_preview()),
    Row("/{withdrawn}/export/datacite-xml", everyone(OK)),
    # The API shows listed datasets only, to staff too.
    Row("/api/1.0/datasets/{published}.json", everyone(OK)),
    Row("/api/1.0/datasets/{hidden}.json", everyone(NOT_FOUND)),
    Row("/api/1.0/datasets/{draft}.json", everyone(NOT_FOUND)),
    Row("/api/1.0/datasets/{withdrawn}.json", everyone(GONE)),
    Row("/priorities/new/", priorities_editor(), post=_priority_form()),
    # allauth: representative pages (the rest: test_every_allauth_url_answers).
    Row("/accounts/login/", signed_in(AWAY_FROM_LOGIN, signed_out=OK)),
    Row("/accounts/signup/", signed_in(AWAY_FROM_LOGIN, signed_out=OK)),
    Row("/accounts/password/reset/", everyone(OK)),
    Row("/accounts/logout/", signed_in(OK, signed_out=TO_HOME)),  # GET asks; POST signs out
    Row("/accounts/email/", signed_in()),
    Row("/accounts/password/change/", signed_in()),
    Row("/accounts/2fa/", signed_in()),
    # The hub's own account pages.
    Row(
        "/accounts/profile/",
        signed_in(),
        post={"display_name": "Someone Else", "orcid": ""},
    ),
    Row(
        "/accounts/undertaking/",
        signed_in(),
        post={"accept": "on", "text_sha256": "{undertaking_sha256}"},
    ),
    # Membership: any signed-in person may read about it and apply.
    Row("/membership/", signed_in()),
    Row(
        "/membership/organization/",
        signed_in(),
        post={"name": "Example Institute", "organization_number": "", "country": "SE"},
    ),
    Row(
        "/membership/network-partner/",
        signed_in(),
        post={"motivation": "We share prioritized data.", "fee_waiver_requested": ""},
    ),
    # Withdrawing an application is a POST by its applicant; anyone else's is not there.
    Row(
        "/membership/network-partner/{application}/withdraw/",
        everyone(NOT_ALLOWED),
        post={},
        post_expect=signed_in(NOT_FOUND),
    ),
    # The members' area: non-public data.
    Row("/consortium/", consortium()),
    # Staff pages.
    Row("/staff/audit/", staff_page()),
    Row("/staff/audit/export.csv", staff_page()),
    Row("/staff/audit/irregularities/", staff_page()),
    Row("/staff/audit/{audit_event}/", staff_page()),
    Row("/staff/audit/999999999/", {**staff_page(), STAFF: NOT_FOUND}),
    # The admin: the index, and a changelist and a change page per app (the rest:
    # test_every_admin_url_refuses_non_staff).
    Row("/admin/", admin_page()),
    Row("/admin/login/", ADMIN_LOGIN_PAGE),
    Row("/admin/logout/", ADMIN_LOGOUT),  # POST only: a GET signs nobody out
    Row("/admin/auth/user/", admin_page()),
    Row("/admin/auth/user/{user_pk}/change/", admin_page()),
    Row("/admin/account/emailaddress/", admin_page()),
    Row("/admin/account/emailaddress/{email_pk}/change/", admin_page()),
    Row("/admin/mfa/authenticator/", admin_page()),
    Row("/admin/mfa/authenticator/{authenticator_pk}/change/", admin_page()),
    Row("/admin/audit/auditevent/", admin_page()),
    Row("/admin/audit/auditevent/{audit_event}/change/", admin_page()),
    Row("/admin/register/dataset/", admin_page()),
    Row("/admin/register/dataset/{dataset_pk}/change/", admin_page()),
    Row("/admin/register/datasetversion/{version_pk}/change/", admin_page()),
    Row("/admin/register/prioritylist/", admin_page()),
    Row(
        "/admin/register/prioritylist/add/",
        admin_page(),
        post={"approved_on": "2025-03-01", "approved_by": "Clinical council", "note": ""},
    ),
    Row("/admin/organizations/organization/", admin_page()),
    Row(
        "/admin/organizations/organization/{organization_pk}/change/",
        admin_page(),
    ),
    Row("/admin/organizations/agreement/", admin_page()),
    Row("/admin/accounts/identityverification/", admin_page()),
)


# -- the objects the addresses name ----------------------------------------------------------


class World(dict):
    """The objects a row's URL names, made on first use: each test builds what it needs."""

    def __missing__(self, name: str) -> str:
        value = str(getattr(self, f"_make_{name}")())
        self[name] = value
        return value

    def _dataset(self, doi: str, **kwargs) -> Dataset:
        return make_dataset(doi=doi, title=f"Dataset at {doi}", **kwargs)

    def _make_published(self):
        self._published = self._dataset(PUBLISHED)
        return PUBLISHED

    def _make_published_version(self):
        self["published"]
        return DOIS["published_version"]

    def _make_preview_version(self):
        self["published"]
        return services.new_version(self._published, "2.0").doi

    def _make_hidden(self):
        return self._dataset(HIDDEN, hidden=True).concept_doi

    def _make_draft(self):
        return self._dataset(DRAFT, published=False).concept_doi

    def _make_withdrawn(self):
        dataset = self._dataset(WITHDRAWN)
        services.withdraw(dataset, "Consent was withdrawn.")
        return WITHDRAWN

    def _make_dataset_pk(self):
        self["published"]
        return self._published.pk

    def _make_version_pk(self):
        self["published"]
        return self._published.versions.get().pk

    def _make_audit_event(self):
        return record("tests.permission_matrix.example", data={"note": "an example"}).pk

    def _someone(self):
        if not hasattr(self, "_user"):
            self._user = roles.make_member("someone-else")
        return self._user

    def _make_user_pk(self):
        return self._someone().pk

    def _make_email_pk(self):
        return EmailAddress.objects.get(user=self._someone()).pk

    def _make_authenticator_pk(self):
        return Authenticator.objects.get(user=self._someone()).pk

    def _make_organization_pk(self):
        return Affiliation.objects.get(user=self._someone()).organization_id

    def _make_application(self):
        """Someone else's open application for network partnership."""
        user = self._someone()
        return NetworkPartnerApplication.objects.create(
            organization=Affiliation.objects.get(user=user).organization,
            applicant=user,
            motivation="We share prioritized data.",
        ).pk

    def _make_undertaking_sha256(self):
        return undertaking.current().sha256


class _Shown(dict):
    """What a test id shows for a placeholder: the DOI, or the placeholder itself."""

    def __missing__(self, name: str) -> str:
        return DOIS.get(name, "{" + name + "}")


class _Example(dict):
    """Placeholders filled without a database, for resolving a row to its pattern."""

    def __missing__(self, name: str) -> str:
        return DOIS.get(name, "1")


# Models whose rows are state a GET must never change. The audit trail is not among them:
# reading non-public pages is itself recorded.
STATE_MODELS = (
    get_user_model(),
    EmailAddress,
    Authenticator,
    IdentityVerification,
    UndertakingAcceptance,
    Organization,
    Affiliation,
    PersonalMembership,
    Agreement,
    NetworkPartnerApplication,
    Dataset,
    DatasetVersion,
    PriorityList,
    Priority,
)


def state() -> dict[str, object]:
    snapshot: dict[str, object] = {m._meta.label: m.objects.count() for m in STATE_MODELS}
    snapshot["dataset states"] = sorted(Dataset.objects.values_list("pk", "state", "hidden"))
    snapshot["application states"] = sorted(
        NetworkPartnerApplication.objects.values_list("pk", "state")
    )
    snapshot["affiliations"] = sorted(
        Affiliation.objects.values_list("pk", "end", "confirmed_at"), key=lambda a: a[0]
    )
    snapshot["active users"] = get_user_model().objects.filter(is_active=True).count()
    return snapshot


# -- enumerating the URLconf -----------------------------------------------------------------


@dataclass(frozen=True)
class Pattern:
    route: str  # as Django's admindocs shows it: /staff/audit/<pk>/
    name: str | None
    urlconf: str  # the module that declares it

    def __str__(self) -> str:
        return f"{self.route} ({self.name or 'unnamed'}, in {self.urlconf})"


def url_patterns(patterns=None, prefix: str = "", ns: str = "", urlconf: str = "") -> list:
    """Every pattern of the URLconf, includes followed, with its full route and name."""
    if patterns is None:
        resolver = get_resolver()
        return url_patterns(resolver.url_patterns, urlconf=resolver.urlconf_name)
    found = []
    for p in patterns:
        if isinstance(p, URLResolver):
            module = getattr(p.urlconf_module, "__name__", urlconf)  # a list: the admin's
            namespace = f"{ns}{p.namespace}:" if p.namespace else ns
            found += url_patterns(p.url_patterns, prefix + str(p.pattern), namespace, module)
        elif isinstance(p, URLPattern):
            name = f"{ns}{p.name}" if p.name else None
            found.append(Pattern(simplify_regex(prefix + str(p.pattern)), name, urlconf))
    return found


ADMIN_CATCH_ALL = "/admin/<url>"


def is_admin(pattern: Pattern) -> bool:
    return pattern.route.startswith("/admin/")


def is_allauth(pattern: Pattern) -> bool:
    return pattern.urlconf.startswith("allauth.")


def pattern_of(url: str) -> str | None:
    """The route a concrete URL resolves to, or None when the URLconf has no such page."""
    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        return None
    route = simplify_regex(match.route)
    # The admin answers any address under it (sign-in first, then 404): not a page.
    return None if route == ADMIN_CATCH_ALL else route


def _skip_unless_present(row: Row) -> None:
    if row.pending and pattern_of(row.url.format_map(_Example())) is None:
        pytest.skip(f"{row.url} is not in the URLconf yet ({row.pending})")


# -- the tests -------------------------------------------------------------------------------

CELLS = [(role, row) for row in ROWS for role in ROLES]


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "row"), CELLS, ids=[f"{r}-{row.id}" for r, row in CELLS])
def test_matrix(role, row):
    _skip_unless_present(row)
    url = row.url.format_map(World())
    client, _ = roles.client_for(role)
    before = state()
    response = client.get(url)
    assert state() == before, f"GET {url} changed what is stored"
    expected = row.expect[role]
    problem = expected.mismatch(response, url)
    assert problem is None, f"{role} GET {url}: {problem}"


POST_CELLS = [(role, row) for row in ROWS for role in ROLES if row.refused_post(role)]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "row"), POST_CELLS, ids=[f"{r}-POST {row.url}" for r, row in POST_CELLS]
)
def test_a_refused_post_changes_nothing(role, row):
    """A form posted by a role that may not act is refused (or answered 405)."""
    _skip_unless_present(row)
    world = World()
    url = row.url.format_map(world)
    data = {name: value.format_map(world) for name, value in row.post.items()}
    client, _ = roles.client_for(role)
    before = state()
    response = client.post(url, data)
    assert state() == before, f"{role} POST {url} changed what is stored"
    expected = row.refused_post(role)
    problem = expected.mismatch(response, url)
    if problem and response.status_code == 405:
        problem = None
    assert problem is None, f"{role} POST {url}: {problem}"


def test_every_url_has_a_row():
    """A new address without a row fails here, by its pattern; see the module docstring."""
    covered = {pattern_of(row.url.format_map(_Example())) for row in ROWS}
    missing = [
        str(p)
        for p in url_patterns()
        if not is_admin(p) and not is_allauth(p) and p.route not in covered
    ]
    assert not missing, "URL patterns without a row in ROWS:\n" + "\n".join(missing)


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_every_row_names_a_url_that_exists(row):
    _skip_unless_present(row)
    assert pattern_of(row.url.format_map(_Example())) is not None, f"{row.url} is not a page"


def test_every_row_has_every_role():
    incomplete = [row.id for row in ROWS if set(row.expect) != set(ROLES)]
    assert not incomplete


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_roles_are_what_their_names_say(role):
    """The fixtures' contract: what ``nonpublic_access`` finds missing for each role."""
    user = roles.make_user(role) or AnonymousUser()
    assert nonpublic_access(user).missing == roles.MISSING[role]
    if role in STAFF_ROLES:
        assert user.is_staff and user.is_superuser
    if role == CLINICAL_COUNCIL:
        assert user.hub_profile.is_clinical_council


REFUSED_MEMBERS = [role for role in ROLES if role not in SIGNED_OUT and roles.MISSING[role]]


@pytest.mark.django_db
@pytest.mark.parametrize("role", REFUSED_MEMBERS)
def test_the_members_area_says_what_is_missing(role):
    """The 403 lists each requirement ``nonpublic_access`` finds missing, and only those."""
    client, _ = roles.client_for(role)
    page = client.get("/consortium/").content.decode()
    listed = re.findall(r'<li class="missing">', page)
    assert len(listed) == len(roles.MISSING[role])
    for requirement in roles.MISSING[role]:
        assert str(TITLES[requirement]) in page


@pytest.mark.django_db
def test_getting_the_logout_page_signs_nobody_out():
    client, user = roles.client_for(roles.MEMBER)
    assert client.get("/accounts/logout/").status_code == 200
    assert client.get("/accounts/email/").status_code == 200  # still signed in
    client.post("/accounts/logout/")
    assert LOGIN.mismatch(client.get("/accounts/email/"), "/accounts/email/") is None


# -- the admin and allauth by rule -----------------------------------------------------------

_SAMPLE_ARGUMENTS = {"app_label": "auth", "url": "no-such-page/"}


def _example_url(route: str) -> str:
    """The route with example arguments: /admin/auth/user/<id>/password/ → …/1/password/."""
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: _SAMPLE_ARGUMENTS.get(m[1], "1"), route)


# The admin's way in and out: the sign-in page answers everyone, and signing out (POST
# only) sends a visitor without a session back to the admin, which then asks for sign-in.
_ADMIN_DOORS = {"admin:login", "admin:logout"}
ADMIN_URLS = sorted(
    {_example_url(p.route) for p in url_patterns() if is_admin(p) and p.name not in _ADMIN_DOORS}
)


@pytest.mark.django_db
@pytest.mark.parametrize("role", [ANONYMOUS, roles.OUTSIDE, roles.MEMBER, INACTIVE])
@pytest.mark.parametrize("url", ADMIN_URLS)
def test_every_admin_url_refuses_non_staff(role, url):
    client, _ = roles.client_for(role)
    expected = ADMIN_LOGIN if role in SIGNED_OUT else ADMIN_REFUSED
    response = client.get(url)
    assert expected.mismatch(response, url) is None, f"{role} GET {url}: {response.status_code}"


@pytest.mark.django_db
@pytest.mark.parametrize("url", ADMIN_URLS)
def test_every_admin_url_answers_staff_without_an_error(url):
    client, _ = roles.client_for(STAFF)
    response = client.get(url)
    assert response.status_code < 500


ALLAUTH_URLS = sorted(
    {_example_url(p.route) for p in url_patterns() if is_allauth(p)} - {row.url for row in ROWS}
)


@pytest.mark.django_db
@pytest.mark.parametrize("role", [ANONYMOUS, roles.OUTSIDE])
@pytest.mark.parametrize("url", ALLAUTH_URLS)
def test_every_allauth_url_answers(role, url):
    """allauth's other pages render with the hub's templates and never redirect off-site."""
    client, _ = roles.client_for(role)
    response = client.get(url)
    assert response.status_code < 500
    if response.has_header("Location"):
        assert not urlsplit(response["Location"]).netloc
