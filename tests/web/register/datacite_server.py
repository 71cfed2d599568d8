"""A local stand-in for DataCite's REST API ``/dois``, served over real HTTP for the tests.

It behaves as DataCite documents ("Create DOIs with the REST API", "Update a DOI",
"Delete a DOI") in what the hub relies on:

- HTTP basic authentication by one repository account with one prefix; a wrong password
  is 401, every request needs it.
- JSON:API bodies: ``data.type`` must be ``dois`` and ``data.attributes.doi`` present
  (else 422); answers are ``{"data": {"id", "type", "attributes"}}`` with the ``state``.
- ``POST /dois`` creates a draft, or a registered (``event: register``) or findable
  (``event: publish``) DOI; a DOI that exists is refused with 422 "This DOI has already
  been taken" (as DataCite's lupo does), one outside the account's prefix with 422.
- ``PUT /dois/<doi>`` replaces the attributes sent and applies the event. The real API also
  creates a missing DOI on PUT; this one answers 404 so that the hub is seen never to rely
  on it.
- ``GET /dois/<doi>``; 404 ``{"errors": [...]}`` for an unknown DOI.
- ``DELETE /dois/<doi>``: 204 for a draft; for a registered or findable DOI 405 Method Not
  Allowed with an ``Allow`` header, which is what DataCite answers ("only DOIs in draft
  state can be deleted").
- States: draft → registered (``register``), draft or registered → findable (``publish``),
  findable → registered (``hide``); repeating the current state's event changes nothing;
  any other pair is 422. Nothing goes back to draft.
- Leaving draft needs the mandatory metadata: ``url``, ``titles``, ``creators``,
  ``publisher``, ``publicationYear`` and ``types.resourceTypeGeneral``; each missing one is
  a 422 error ``{"source": <attribute>, "title": "can't be blank"}``.

``fail_next`` makes the next requests fail with a status (503 by default), as an
overloaded DataCite does; ``stop`` and ``start`` take the server down and up again on the
same port.
"""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

CONTENT_TYPE = "application/vnd.api+json"

# (state, event) -> state. Anything else is refused.
TRANSITIONS = {
    ("draft", None): "draft",
    ("draft", "register"): "registered",
    ("draft", "publish"): "findable",
    ("registered", None): "registered",
    ("registered", "register"): "registered",
    ("registered", "publish"): "findable",
    ("findable", None): "findable",
    ("findable", "publish"): "findable",
    ("findable", "hide"): "registered",
}
CREATE_STATES = {None: "draft", "register": "registered", "publish": "findable"}
REQUIRED = ("url", "titles", "creators", "publisher", "publicationYear")


class Refused(Exception):
    def __init__(self, status: int, *errors: dict, headers: dict | None = None):
        self.status = status
        self.errors = list(errors)
        self.headers = headers or {}


def missing_metadata(attributes: dict) -> list[dict]:
    errors = [
        {"source": name, "title": "can't be blank"}
        for name in REQUIRED
        if attributes.get(name) in (None, "", [], {})
    ]
    if not (attributes.get("types") or {}).get("resourceTypeGeneral"):
        errors.append({"source": "types", "title": "resourceTypeGeneral can't be blank"})
    return errors


class MockDataCite:
    """The DOIs one repository account holds, and the HTTP server that answers for them."""

    username = "HUB.TEST"
    password = "s3cret"

    def __init__(self, prefix: str = "10.5072"):
        self.prefix = prefix
        self.dois: dict[str, dict] = {}
        self.requests: list[tuple[str, str, dict | None]] = []
        self.fail_next: list[int] = []
        self._lock = threading.Lock()
        self._port = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- running ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def start(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", self._port), _handler(self))
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
            self._server = None

    # -- what tests look at -----------------------------------------------------------------

    def state(self, doi: str) -> str | None:
        held = self.dois.get(doi.lower())
        return held["state"] if held else None

    def attributes(self, doi: str) -> dict:
        return self.dois[doi.lower()]

    def changes(self) -> list[tuple[str, str, dict | None]]:
        return [r for r in self.requests if r[0] != "GET"]

    # -- the API ----------------------------------------------------------------------------

    def answer(self, method: str, path: str, auth: str, content_type: str, body: bytes):
        with self._lock:
            parsed = json.loads(body) if body else None
            self.requests.append((method, path, parsed))
            if self.fail_next:
                status = self.fail_next.pop(0)
                raise Refused(status, {"status": str(status), "title": "Service Unavailable"})
            self._authenticate(auth)
            if path == "/dois" and method == "POST":
                return 201, self._create(self._attributes(content_type, parsed))
            if not path.startswith("/dois/"):
                raise Refused(404, {"status": "404", "title": "Not found"})
            doi = unquote(path[len("/dois/") :]).lower()
            if method == "GET":
                return 200, self._held(doi)
            if method == "PUT":
                return 200, self._update(doi, self._attributes(content_type, parsed))
            if method == "DELETE":
                return self._delete(doi)
            raise Refused(405, {"status": "405", "title": "Method not allowed"})

    def _authenticate(self, header: str) -> None:
        expected = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        if header != f"Basic {expected}":
            raise Refused(401, {"status": "401", "title": "Bad credentials."})

    def _attributes(self, content_type: str, body) -> dict:
        if content_type.split(";")[0].strip() != CONTENT_TYPE:
            raise Refused(415, {"status": "415", "title": f"Content-Type must be {CONTENT_TYPE}"})
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict) or data.get("type") != "dois":
            raise Refused(422, {"source": "type", "title": "must be dois"})
        attributes = data.get("attributes")
        if not isinstance(attributes, dict) or not attributes.get("doi"):
            raise Refused(422, {"source": "doi", "title": "can't be blank"})
        return dict(attributes)

    def _held(self, doi: str) -> dict:
        if doi not in self.dois:
            raise Refused(
                404,
                {"status": "404", "title": "The resource you are looking for doesn't exist."},
            )
        return self.dois[doi]

    def _move(self, doi: str, state: str | None, event: str | None, attributes: dict) -> dict:
        new_state = CREATE_STATES.get(event) if state is None else TRANSITIONS.get((state, event))
        if new_state is None:
            raise Refused(
                422, {"source": "event", "title": f"Cannot {event} a DOI that is {state}"}
            )
        if new_state != "draft" and (errors := missing_metadata(attributes)):
            raise Refused(422, *errors)
        return {**attributes, "doi": doi, "state": new_state}

    def _create(self, attributes: dict) -> dict:
        doi = attributes["doi"].lower()
        if not doi.startswith(self.prefix.lower() + "/"):
            raise Refused(
                422,
                {
                    "source": "doi",
                    "title": f"Prefix {doi.split('/')[0]} is not assigned to this repository",
                },  # fmt: skip
            )
        if doi in self.dois:
            raise Refused(422, {"source": "doi", "title": "This DOI has already been taken"})
        event = attributes.pop("event", None)
        self.dois[doi] = self._move(doi, None, event, attributes)
        return self.dois[doi]

    def _update(self, doi: str, attributes: dict) -> dict:
        held = self._held(doi)
        event = attributes.pop("event", None)
        self.dois[doi] = self._move(doi, held["state"], event, {**held, **attributes})
        return self.dois[doi]

    def _delete(self, doi: str):
        if self._held(doi)["state"] != "draft":
            raise Refused(
                405,
                {"status": "405", "title": "Method not allowed"},
                headers={"Allow": "HEAD, GET, POST, PATCH, PUT, OPTIONS"},
            )
        del self.dois[doi]
        return 204, None


def _handler(api: MockDataCite):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output clean
            pass

        def _serve(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            try:
                status, attributes = api.answer(
                    self.command,
                    self.path,
                    self.headers.get("Authorization", ""),
                    self.headers.get("Content-Type", ""),
                    body,
                )
                payload = None
                if attributes is not None:
                    data = {"id": attributes["doi"], "type": "dois", "attributes": attributes}
                    payload = {"data": data}
                headers = {}
            except Refused as refused:
                status, payload, headers = (
                    refused.status,
                    {"errors": refused.errors},
                    refused.headers,
                )
            except json.JSONDecodeError:
                status, payload, headers = 400, {"errors": [{"title": "invalid JSON"}]}, {}
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            raw = json.dumps(payload).encode() if payload is not None else b""
            if raw:
                self.send_header("Content-Type", CONTENT_TYPE)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    return Handler
