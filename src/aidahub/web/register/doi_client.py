"""A small client for the DataCite REST API's ``/dois`` resource.

It follows DataCite's documentation ("Create DOIs with the REST API", "Update a DOI",
"Delete a DOI"): bodies are JSON:API documents ``{"data": {"type": "dois", "attributes":
{...}}}`` sent as ``application/vnd.api+json`` with HTTP basic authentication by the
repository account. A DOI is in one of three states:

- ``draft``: reserved, not resolvable, can be deleted;
- ``registered``: resolves at doi.org but is not listed in DataCite's search;
- ``findable``: resolves and is listed.

The ``event`` attribute moves a DOI: ``register`` (draft → registered), ``publish`` (draft
or registered → findable) and ``hide`` (findable → registered). Only a draft can be deleted
or left without metadata; nothing goes back to draft.

Every failure is a :class:`DataCiteError` whose ``kind`` says what went wrong and whether
trying again later may help (``retryable``). The HTTP session is injected, so tests and
callers choose the transport instead of patching this module.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import requests

__all__ = [
    "CONTENT_TYPE",
    "DataCiteClient",
    "DataCiteError",
    "DoiState",
    "ErrorKind",
]

CONTENT_TYPE = "application/vnd.api+json"


class DoiState:
    """The states of a DOI at DataCite, and ``none`` for a DOI DataCite does not hold yet."""

    NONE = "none"
    DRAFT = "draft"
    REGISTERED = "registered"
    FINDABLE = "findable"


class ErrorKind:
    UNAUTHORIZED = "unauthorized"  # 401: wrong repository account or password
    FORBIDDEN = "forbidden"  # 403: the account may not change this DOI
    NOT_FOUND = "not_found"  # 404: DataCite holds no such DOI
    NOT_ALLOWED = "not_allowed"  # 405: e.g. deleting a DOI that is no longer a draft
    CONFLICT = "conflict"  # 409
    INVALID = "invalid"  # 400, 422: the metadata or the DOI was refused
    UNAVAILABLE = "unavailable"  # 429, 5xx, timeouts, connection errors
    UNEXPECTED = "unexpected"  # any other answer

    RETRYABLE = frozenset({UNAVAILABLE})


_KIND_BY_STATUS = {
    400: ErrorKind.INVALID,
    401: ErrorKind.UNAUTHORIZED,
    403: ErrorKind.FORBIDDEN,
    404: ErrorKind.NOT_FOUND,
    405: ErrorKind.NOT_ALLOWED,
    409: ErrorKind.CONFLICT,
    422: ErrorKind.INVALID,
    429: ErrorKind.UNAVAILABLE,
}


class DataCiteError(Exception):
    """DataCite refused a request or could not be reached.

    ``status`` is the HTTP status (``None`` when no answer came), ``errors`` the JSON:API
    ``errors`` list DataCite sent and ``titles`` their titles, prefixed with the attribute
    each one is about, ready to show to staff.
    """

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        status: int | None = None,
        errors: list[dict[str, Any]] | None = None,
    ):
        self.kind = kind
        self.status = status
        self.errors = errors or []
        self.titles = [_error_title(e) for e in self.errors if _error_title(e)]
        detail = "; ".join(self.titles)
        super().__init__(f"{message}: {detail}" if detail else message)

    @property
    def retryable(self) -> bool:
        return self.kind in ErrorKind.RETRYABLE


def _error_title(error: dict[str, Any]) -> str:
    if not isinstance(error, dict):
        return str(error)
    title = str(error.get("title") or error.get("detail") or "").strip()
    source = error.get("source")
    if isinstance(source, dict):  # JSON:API puts {"pointer": ...}; DataCite a plain name
        source = source.get("pointer") or source.get("parameter")
    if source and title:
        return f"{source}: {title}"
    return title


class DataCiteClient:
    """Calls ``/dois`` of one DataCite repository account.

    ``base_url`` is the API, such as ``https://api.test.datacite.org``; ``prefix`` the
    account's DOI prefix: a DOI outside it is refused before anything is sent.
    """

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        prefix: str,
        timeout: float = 10.0,
        session: requests.Session | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.prefix = prefix
        self.timeout = timeout
        self._auth = (username, password)
        self._owns_session = session is None
        self._session = session or requests.Session()

    def close(self) -> None:
        """Close the session if the client made it; an injected one belongs to the caller."""
        if self._owns_session:
            self._session.close()

    # -- the DOI lifecycle ------------------------------------------------------------------

    def create_draft(self, doi: str, attributes: dict[str, Any] | None = None) -> dict[str, Any]:
        """Reserve *doi* as a draft (``POST /dois`` without an event)."""
        return self.create(doi, attributes)

    def create(
        self, doi: str, attributes: dict[str, Any] | None = None, *, event: str | None = None
    ) -> dict[str, Any]:
        """``POST /dois``: a new DOI, a draft unless *event* is ``register`` or ``publish``."""
        body = self._body(doi, attributes, event)
        return self._send("POST", "/dois", body)

    def update(
        self, doi: str, attributes: dict[str, Any] | None = None, *, event: str | None = None
    ) -> dict[str, Any]:
        """``PUT /dois/<doi>``: replace the given attributes, then apply *event* if any."""
        return self._send("PUT", self._path(doi), self._body(doi, attributes, event))

    def register(self, doi: str, attributes: dict[str, Any] | None = None) -> dict[str, Any]:
        """Draft → registered: resolvable, not listed."""
        return self.update(doi, attributes, event="register")

    def publish(self, doi: str, attributes: dict[str, Any] | None = None) -> dict[str, Any]:
        """Draft or registered → findable."""
        return self.update(doi, attributes, event="publish")

    def hide(self, doi: str, attributes: dict[str, Any] | None = None) -> dict[str, Any]:
        """Findable → registered: the DOI still resolves (to a tombstone) but is not listed."""
        return self.update(doi, attributes, event="hide")

    def get(self, doi: str) -> dict[str, Any]:
        """The DOI's attributes as DataCite holds them, ``state`` among them."""
        return self._send("GET", self._path(doi))

    def delete_draft(self, doi: str) -> None:
        """Delete a draft; DataCite refuses (405) for a registered or findable DOI."""
        self._send("DELETE", self._path(doi))

    # -- plumbing ---------------------------------------------------------------------------

    def _path(self, doi: str) -> str:
        self._check_prefix(doi)
        return "/dois/" + quote(doi, safe="/")

    def _check_prefix(self, doi: str) -> None:
        if not doi.lower().startswith(self.prefix.lower() + "/"):
            raise DataCiteError(
                ErrorKind.INVALID,
                f"{doi} is outside the account's prefix {self.prefix}",
            )

    def _body(self, doi: str, attributes: dict[str, Any] | None, event: str | None) -> dict:
        self._check_prefix(doi)
        attributes = {**(attributes or {}), "doi": doi}
        if event is not None:
            attributes["event"] = event
        return {"data": {"id": doi, "type": "dois", "attributes": attributes}}

    def _send(self, method: str, path: str, body: dict | None = None) -> dict[str, Any]:
        headers = {"Accept": CONTENT_TYPE}
        if body is not None:
            headers["Content-Type"] = CONTENT_TYPE
        try:
            response = self._session.request(
                method,
                self.base_url + path,
                json=body,
                headers=headers,
                auth=self._auth,
                timeout=self.timeout,
            )
        except requests.Timeout as exc:
            raise DataCiteError(
                ErrorKind.UNAVAILABLE, f"DataCite did not answer within {self.timeout:g} s"
            ) from exc
        except requests.ConnectionError as exc:
            raise DataCiteError(
                ErrorKind.UNAVAILABLE, f"DataCite could not be reached at {self.base_url}"
            ) from exc
        return _answer(method, path, response)


def _answer(method: str, path: str, response: requests.Response) -> dict[str, Any]:
    status = response.status_code
    if 200 <= status < 300:
        if status == 204 or not response.content:
            return {}
        data = _json(response).get("data")
        return data.get("attributes", {}) if isinstance(data, dict) else {}
    errors = _json(response).get("errors")
    kind = _KIND_BY_STATUS.get(status)
    if kind is None:
        kind = ErrorKind.UNAVAILABLE if status >= 500 else ErrorKind.UNEXPECTED
    raise DataCiteError(
        kind,
        f"DataCite answered {status} to {method} {path}",
        status=status,
        errors=errors if isinstance(errors, list) else [],
    )


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        value = response.json()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
