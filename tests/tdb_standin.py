"""A local stand-in of the DSA Transparency Database's multiple-statements endpoint.

It checks the field rules the Commission publishes
(https://transparency.dsa.ec.europa.eu/page/api-documentation and its API v2 page:
required fields, allowed values, formats, conditional requirements, lengths, puid
uniqueness per platform) and answers as the database does:

- ``201`` with ``{"statements": [...]}`` (each with a ``uuid``) when every statement is valid;
- ``422`` when any is invalid, with the errors indexed by position
  (``{"errors": {"statement_3": {field: [messages]}}}``) and nothing stored, or, with
  ``indexed=False``, one message that names no statement (to exercise bisection);
- ``422`` with ``errors.existing_puids`` when a puid is already stored or repeated;
- ``401`` for a wrong token; ``429`` with ``Retry-After`` when told to (:meth:`throttle`);
- ``502`` after storing the batch when told to lose the answer (:meth:`lose_answers`).

Its rule tables are transcribed from the published documentation, independently of
``warding.legal``, so a test that passes here checks Warding against the docs.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DECISION_VISIBILITIES = {
    "DECISION_VISIBILITY_CONTENT_REMOVED", "DECISION_VISIBILITY_CONTENT_DISABLED",
    "DECISION_VISIBILITY_CONTENT_DEMOTED", "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
    "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED", "DECISION_VISIBILITY_CONTENT_LABELLED",
    "DECISION_VISIBILITY_OTHER"}
DECISION_MONETARIES = {"DECISION_MONETARY_SUSPENSION", "DECISION_MONETARY_TERMINATION",
                       "DECISION_MONETARY_OTHER"}
DECISION_PROVISIONS = {"DECISION_PROVISION_PARTIAL_SUSPENSION",
                       "DECISION_PROVISION_TOTAL_SUSPENSION",
                       "DECISION_PROVISION_PARTIAL_TERMINATION",
                       "DECISION_PROVISION_TOTAL_TERMINATION"}
DECISION_ACCOUNTS = {"DECISION_ACCOUNT_SUSPENDED", "DECISION_ACCOUNT_TERMINATED"}
ACCOUNT_TYPES = {"ACCOUNT_TYPE_BUSINESS", "ACCOUNT_TYPE_PRIVATE"}
DECISION_GROUNDS = {"DECISION_GROUND_ILLEGAL_CONTENT", "DECISION_GROUND_INCOMPATIBLE_CONTENT"}
CONTENT_TYPES = {"CONTENT_TYPE_APP", "CONTENT_TYPE_AUDIO", "CONTENT_TYPE_IMAGE",
                 "CONTENT_TYPE_PRODUCT", "CONTENT_TYPE_SYNTHETIC_MEDIA", "CONTENT_TYPE_TEXT",
                 "CONTENT_TYPE_VIDEO", "CONTENT_TYPE_OTHER"}
CATEGORIES = {f"STATEMENT_CATEGORY_{c}" for c in (
    "ANIMAL_WELFARE", "CONSUMER_INFORMATION", "CYBER_VIOLENCE", "CYBER_VIOLENCE_AGAINST_WOMEN",
    "DATA_PROTECTION_AND_PRIVACY_VIOLATIONS", "ILLEGAL_OR_HARMFUL_SPEECH",
    "INTELLECTUAL_PROPERTY_INFRINGEMENTS", "NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
    "NOT_SPECIFIED_NOTICE", "OTHER_VIOLATION_TC", "PROTECTION_OF_MINORS",
    "RISK_FOR_PUBLIC_SECURITY", "SCAMS_AND_FRAUD", "SELF_HARM", "UNSAFE_AND_PROHIBITED_PRODUCTS",
    "VIOLENCE")}
KEYWORDS = {f"KEYWORD_{k}" for k in (
    "ANIMAL_HARM", "ADULT_SEXUAL_MATERIAL", "AGE_SPECIFIC_RESTRICTIONS",
    "AGE_SPECIFIC_RESTRICTIONS_MINORS", "BIOMETRIC_DATA_BREACH", "CHILD_SEXUAL_ABUSE_MATERIAL",
    "CONTENT_PROMOTING_EATING_DISORDERS", "COORDINATED_HARM", "COPYRIGHT_INFRINGEMENT",
    "CYBER_BULLYING_INTIMIDATION", "CYBER_HARASSMENT", "CYBER_INCITEMENT", "CYBER_STALKING",
    "DATA_FALSIFICATION", "DEFAMATION", "DESIGN_INFRINGEMENT", "DISCRIMINATION",
    "MISINFORMATION_DISINFORMATION", "GEOGRAPHIC_INDICATIONS_INFRINGEMENT",
    "GEOGRAPHICAL_REQUIREMENTS", "GOODS_SERVICES_NOT_PERMITTED",
    "GROOMING_SEXUAL_ENTICEMENT_MINORS", "HATE_SPEECH", "HIDDEN_ADVERTISEMENT",
    "HUMAN_EXPLOITATION", "HUMAN_TRAFFICKING", "ILLEGAL_ORGANIZATIONS",
    "IMPERSONATION_ACCOUNT_HIJACKING", "INAUTHENTIC_ACCOUNTS", "INAUTHENTIC_LISTINGS",
    "INAUTHENTIC_USER_REVIEWS", "INCITEMENT_VIOLENCE_HATRED", "LANGUAGE_REQUIREMENTS",
    "MISSING_PROCESSING_GROUND", "NON_CONSENSUAL_IMAGE_SHARING", "NUDITY",
    "PATENT_INFRINGEMENT", "PHISHING", "PROHIBITED_PRODUCTS", "PYRAMID_SCHEMES",
    "RIGHT_TO_BE_FORGOTTEN", "RISK_ENVIRONMENTAL_DAMAGE", "RISK_PUBLIC_HEALTH",
    "SELF_MUTILATION", "STALKING", "SUICIDE", "TERRORIST_CONTENT", "TRADE_SECRET_INFRINGEMENT",
    "TRADEMARK_INFRINGEMENT", "UNLAWFUL_SALE_ANIMALS", "UNSAFE_CHALLENGES", "UNSAFE_PRODUCTS",
    "VIOLATION_EU_LAW", "VIOLATION_NATIONAL_LAW", "OTHER")}
SOURCE_TYPES = {"SOURCE_ARTICLE_16", "SOURCE_TRUSTED_FLAGGER", "SOURCE_TYPE_OTHER_NOTIFICATION",
                "SOURCE_VOLUNTARY"}
AUTOMATED_DECISIONS = {"AUTOMATED_DECISION_FULLY", "AUTOMATED_DECISION_PARTIALLY",
                       "AUTOMATED_DECISION_NOT_AUTOMATED"}
YES_NO = {"Yes", "No"}
EEA = {"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
       "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "IS", "LI", "NO"}
FIELDS = {
    "decision_visibility", "decision_visibility_other", "decision_monetary",
    "decision_monetary_other", "decision_provision", "decision_account", "account_type",
    "decision_ground", "decision_ground_reference_url", "illegal_content_legal_ground",
    "illegal_content_explanation", "incompatible_content_ground",
    "incompatible_content_explanation", "incompatible_content_illegal", "content_type",
    "content_type_other", "category", "category_addition", "category_specification",
    "category_specification_other", "territorial_scope", "content_language", "content_date",
    "application_date", "end_date_account_restriction", "end_date_monetary_restriction",
    "end_date_service_restriction", "end_date_visibility_restriction", "decision_facts",
    "source_type", "source_identity", "automated_detection", "automated_decision", "puid",
    "content_id"}
PUID = re.compile(r"^[A-Za-z0-9_-]+$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _words(name: str) -> str:
    return name.replace("_", " ")


def validate_statement(s: Any) -> dict[str, list[str]]:
    """The errors of one statement, field by field, in the API's wording; {} when valid."""
    if not isinstance(s, dict):
        return {"statement": ["The statement must be an object."]}
    errors: dict[str, list[str]] = {}

    def err(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    def present(name: str) -> bool:
        return s.get(name) not in (None, "", [])

    def required(name: str) -> bool:
        if not present(name):
            err(name, f"The {_words(name)} field is required.")
            return False
        return True

    def one_of(name: str, allowed: set[str]) -> None:
        if present(name) and s[name] not in allowed:
            err(name, f"The selected {_words(name)} is invalid.")

    def array_of(name: str, allowed: set[str]) -> None:
        if not present(name):
            return
        value = s[name]
        if not isinstance(value, list) or any(v not in allowed for v in value):
            err(name, f"The selected {_words(name)} is invalid.")

    def max_len(name: str, n: int) -> None:
        if present(name) and (not isinstance(s[name], str) or len(s[name]) > n):
            err(name, f"The {_words(name)} field must not be greater than {n} characters.")

    def a_date(name: str, low: date, high: date = date(2038, 1, 1)) -> date | None:
        if not present(name):
            return None
        value = s[name]
        try:
            if not isinstance(value, str) or not DATE.match(value):
                raise ValueError
            day = date.fromisoformat(value)
        except ValueError:
            err(name, f"The {_words(name)} does not match the format YYYY-MM-DD.")
            return None
        if not low <= day <= high:
            err(name, f"The {_words(name)} must be a date between {low} and {high}.")
        return day

    for name in s:
        if name not in FIELDS:
            err(name, f"The {_words(name)} field is not part of the statement schema.")
    decisions = ("decision_visibility", "decision_monetary", "decision_provision",
                 "decision_account")
    if not any(present(d) for d in decisions):
        for d in decisions:
            others = " / ".join(_words(o) for o in decisions if o != d)
            err(d, f"The {_words(d)} field is required when none of {others} are present.")
    array_of("decision_visibility", DECISION_VISIBILITIES)
    if isinstance(s.get("decision_visibility"), list) \
            and "DECISION_VISIBILITY_OTHER" in s["decision_visibility"]:
        required("decision_visibility_other")
    max_len("decision_visibility_other", 500)
    one_of("decision_monetary", DECISION_MONETARIES)
    if s.get("decision_monetary") == "DECISION_MONETARY_OTHER":
        required("decision_monetary_other")
    max_len("decision_monetary_other", 500)
    one_of("decision_provision", DECISION_PROVISIONS)
    one_of("decision_account", DECISION_ACCOUNTS)
    one_of("account_type", ACCOUNT_TYPES)

    if required("decision_ground"):
        one_of("decision_ground", DECISION_GROUNDS)
    if s.get("decision_ground") == "DECISION_GROUND_ILLEGAL_CONTENT":
        required("illegal_content_legal_ground")
        required("illegal_content_explanation")
    if s.get("decision_ground") == "DECISION_GROUND_INCOMPATIBLE_CONTENT":
        required("incompatible_content_ground")
        required("incompatible_content_explanation")
        one_of("incompatible_content_illegal", YES_NO)
    max_len("illegal_content_legal_ground", 500)
    max_len("illegal_content_explanation", 2000)
    max_len("incompatible_content_ground", 500)
    max_len("incompatible_content_explanation", 2000)
    url = s.get("decision_ground_reference_url")
    if url is not None and (not isinstance(url, str) or len(url) > 500
                            or not re.match(r"^https?://[^\s/$.?#].[^\s]*$", url)):
        err("decision_ground_reference_url", "The decision ground reference url must be a "
                                             "valid URL.")

    if required("content_type"):
        array_of("content_type", CONTENT_TYPES)
        if isinstance(s["content_type"], list) and "CONTENT_TYPE_OTHER" in s["content_type"]:
            required("content_type_other")
    max_len("content_type_other", 500)
    if required("category"):
        one_of("category", CATEGORIES)
    array_of("category_addition", CATEGORIES)
    array_of("category_specification", KEYWORDS)
    max_len("category_specification_other", 500)
    if required("territorial_scope"):
        array_of("territorial_scope", EEA)
    if present("content_language") and not (isinstance(s["content_language"], str)
                                            and re.fullmatch(r"[A-Z]{2}", s["content_language"])):
        err("content_language", "The selected content language is invalid.")
    if required("content_date"):
        a_date("content_date", date(2000, 1, 1))
    applied = a_date("application_date", date(2020, 1, 1)) if required("application_date") \
        else None
    for end in ("end_date_account_restriction", "end_date_monetary_restriction",
                "end_date_service_restriction", "end_date_visibility_restriction"):
        a_date(end, applied or date(2020, 1, 1))
    if required("decision_facts"):
        max_len("decision_facts", 5000)
    if required("source_type"):
        one_of("source_type", SOURCE_TYPES)
    max_len("source_identity", 500)
    if required("automated_detection"):
        one_of("automated_detection", YES_NO)
    if required("automated_decision"):
        one_of("automated_decision", AUTOMATED_DECISIONS)
    if required("puid"):
        puid = s["puid"]
        if not isinstance(puid, str) or len(puid) > 500 or not PUID.match(puid):
            err("puid", "The puid field format is invalid.")
    return errors


class TdbStandIn:
    """The stand-in server on 127.0.0.1 (a free port); ``url`` is its statements endpoint."""

    def __init__(self, token: str = "test-token", *, indexed: bool = True) -> None:
        self.token = token
        self.indexed = indexed
        self.stored: dict[str, dict[str, Any]] = {}  # puid -> statement
        self.requests: list[int] = []  # statements per request, in order
        self.statuses: list[int] = []
        self._throttle: list[str] = []  # Retry-After values of the next 429 answers
        self._lose = 0
        self._lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, body, headers = standin.answer(self.path, self.headers, raw)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/v1/statements"

    def throttle(self, times: int = 1, retry_after: str = "120") -> None:
        """Answer the next ``times`` requests with 429 and this ``Retry-After``."""
        self._throttle.extend([retry_after] * times)

    def lose_answers(self, times: int = 1) -> None:
        """Store the next ``times`` valid batches but answer 502, as if the answer was lost."""
        self._lose += times

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(self, path: str, headers: Any, raw: bytes
               ) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            result = self._answer(path, headers, raw)
            self.statuses.append(result[0])
            return result

    def _answer(self, path: str, headers: Any, raw: bytes
                ) -> tuple[int, dict[str, Any], dict[str, str]]:
        if path != "/api/v1/statements":
            return 404, {"message": "not found"}, {}
        if headers.get("Authorization") != f"Bearer {self.token}":
            return 401, {"message": "Unauthenticated."}, {}
        if headers.get("Accept") != "application/json":
            return 406, {"message": "Accept: application/json is required."}, {}
        try:
            payload = json.loads(raw)
        except ValueError:
            return 422, {"message": "The statements field is required.",
                         "errors": {"statements": ["The statements field is required."]}}, {}
        statements = payload.get("statements") if isinstance(payload, dict) else None
        self.requests.append(len(statements) if isinstance(statements, list) else 0)
        if self._throttle:
            return 429, {"message": "Too Many Attempts."}, {"Retry-After": self._throttle.pop(0)}
        if not isinstance(statements, list) or not 1 <= len(statements) <= 100:
            return 422, {"message": "The statements field must have between 1 and 100 items.",
                         "errors": {"statements": ["The statements field must have between 1 "
                                                   "and 100 items."]}}, {}
        errors = {f"statement_{i}": e for i, s in enumerate(statements)
                  if (e := validate_statement(s))}
        if errors:
            if self.indexed:
                return 422, {"errors": errors}, {}
            return 422, {"message": "The given data was invalid.",
                         "errors": {"statements": ["At least one statement is invalid."]}}, {}
        puids = [s["puid"] for s in statements]
        duplicates = sorted({p for p in puids if p in self.stored or puids.count(p) > 1})
        if duplicates:
            message = "The platform identifier(s) are not all unique within this call."
            return 422, {"message": message,
                         "errors": {"puid": [message], "existing_puids": duplicates}}, {}
        out = []
        for s in statements:
            self.stored[s["puid"]] = s
            out.append({**s, "uuid": str(uuid.uuid4()), "created_at": "2026-12-05 12:00:00",
                        "platform_name": "Stand-in platform"})
        if self._lose:
            self._lose -= 1
            return 502, {"message": "Bad Gateway"}, {}
        return 201, {"statements": out}, {}
