"""Settings, read from the environment (``WARDING_*``) by pydantic-settings.

Nothing here is built at import time: call :func:`load_settings` (or build
:class:`Settings` yourself) where you need them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

HmaRole = Literal["hasher", "matcher", "curator"]


def _all_hma_roles() -> list[HmaRole]:
    return ["hasher", "matcher", "curator"]


class Settings(BaseSettings):
    """Every setting Warding reads. Each one is documented in docs/configuration.md."""

    model_config = SettingsConfigDict(env_prefix="WARDING_", extra="ignore",
                                      hide_input_in_errors=True)

    database_url: str = Field(
        default="sqlite:///./warding.db",
        description="SQLAlchemy URL of the database (SQLite by default, PostgreSQL in production).",
    )
    data_dir: Path = Field(
        default=Path("./warding-data"),
        description="Folder for the content-addressed media store, models and secrets.",
    )
    shared_data_dir: Path | None = Field(
        default=None,
        description="Folder of the public evaluation data sets (default: ../shared/data beside the checkout).",
    )
    max_file_bytes: int = Field(
        default=50 * 1024 * 1024, description="Largest media file or input file accepted, in bytes."
    )
    max_text_chars: int = Field(
        default=200_000, description="Longest text accepted for one item, in characters."
    )
    max_image_pixels: int = Field(
        default=50_000_000, description="Largest image accepted, in pixels (guards against image bombs)."
    )
    max_html_bytes: int = Field(
        default=10 * 1024 * 1024, description="Largest HTML page accepted, in bytes."
    )
    video_max_seconds: float = Field(
        default=3 * 3600.0, gt=0, description="Longest video hashed (vPDQ), in seconds."
    )
    video_max_decode_seconds: float = Field(
        default=300.0, gt=0, description="Longest time spent decoding one video, in seconds."
    )
    vpdq_query_match_percent: float = Field(
        default=80.0, ge=0, le=100,
        description="Share of a video's frames (percent) that must match a bank video's frames.",
    )
    vpdq_index_match_percent: float = Field(
        default=0.0, ge=0, le=100,
        description="Share of the bank video's frames (percent) that must be matched.",
    )
    pdf_max_pages: int = Field(default=500, ge=1, description="Most pages read from one PDF.")
    pdf_max_bytes: int = Field(
        default=200 * 1024 * 1024, ge=1024,
        description="Most bytes decompressed from one PDF (text and images), in bytes.",
    )
    pdf_max_seconds: float = Field(
        default=60.0, gt=0, description="Longest time spent reading one PDF, in seconds."
    )
    classifier_threshold: float | None = Field(
        default=None, gt=0.0, le=1.0,
        description="Classifier score at or above which a case is opened; unset: the trained "
                    "model's own threshold (chosen on its calibration accounts, in model.json).",
    )
    classifier_min_words: int = Field(
        default=4,
        description="Texts with fewer words are still scored, but a classifier score alone opens no case.",
    )
    classifier_name: str = Field(
        default="baseline", description="Name of the classifier plugin used when scanning."
    )
    semantic_matching: bool = Field(
        default=True,
        description="Embed bank texts and match translations/paraphrases of them (text_semantic).",
    )
    semantic_threshold: float = Field(
        default=0.517, gt=0.0, le=1.0,
        description="Default cosine similarity for a text_semantic match; a bank's own "
        "thresholds.text_semantic overrides it.",
    )
    ocr: bool = Field(
        default=True,
        description="Read the text in images (OCR, Tesseract) so it gets text signals (origin "
        "ocr) and a classifier score; false turns it off.",
    )
    ocr_tessdata: Path | None = Field(
        default=None,
        description="Folder of Tesseract's language data (default: Debian's "
        "/usr/share/tesseract-ocr/5/tessdata).",
    )
    ocr_max_pixels: int = Field(
        default=25_000_000, gt=0,
        description="Largest image whose text is read, in pixels; a larger image keeps its "
        "hashes and gets an OCR error.",
    )
    ocr_timeout_seconds: float = Field(
        default=10.0, gt=0.0,
        description="Longest time OCR may spend on one image; a slower image gets an OCR error.",
    )
    ocr_min_confidence: float = Field(
        default=50.0, ge=0.0, le=100.0,
        description="Tesseract's mean word confidence (0-100) below which text read from an "
        "image is dropped as noise.",
    )
    ocr_video_frames: int = Field(
        default=6, ge=0,
        description="Frames of a video (spread over its length) whose text is read; 0: none.",
    )
    session_secret: str | None = Field(
        default=None,
        description="Secret that signs console sessions; generated and kept in data_dir when unset.",
    )
    webhook_url: str | None = Field(
        default=None,
        description="Platform webhook that receives signed action requests; no call leaves the machine when unset.",
    )
    webhook_secret: str | None = Field(
        default=None,
        description="Key that signs every webhook (Standard Webhooks format whsec_<base64>); "
                    "required when a webhook URL is set, unless webhook_unsigned.",
    )
    webhook_unsigned: bool = Field(
        default=False,
        description="Send webhooks without a signature when no webhook_secret is set "
                    "(otherwise a webhook URL without a secret is refused at start-up).",
    )
    audit_checkpoint_url: str | None = Field(
        default=None,
        description="Webhook that also receives each audit checkpoint (warding audit "
                    "checkpoint), signed like the other webhooks.",
    )
    action_sinks: list[str] = Field(
        default_factory=lambda: ["log"],
        description="Action sinks run on a violating decision, in order.",
    )
    action_max_attempts: int = Field(
        default=8, ge=1,
        description="Attempts of an action before it goes to the dead-letter list.",
    )
    action_retry_base_seconds: float = Field(
        default=30.0, gt=0,
        description="Delay before the first retry of a failed action; doubled after each failure.",
    )
    action_retry_max_seconds: float = Field(
        default=3600.0, gt=0, description="Longest delay between two attempts of an action."
    )
    action_worker_interval: float = Field(
        default=5.0, ge=0,
        description="Seconds between two runs of the web server's action retry worker; 0 turns it off.",
    )
    event_webhook_url: str | None = Field(
        default=None,
        description="Platform webhook that receives signed events when intake or a scan opens a "
                    "case (case.opened); no call leaves the machine when unset.",
    )
    intake_max_items: int = Field(
        default=1000, ge=1, description="Most posts accepted in one POST /api/items request."
    )
    intake_max_body_bytes: int = Field(
        default=64 * 1024 * 1024, ge=1024,
        description="Largest POST /api/items request body, in bytes (inline media included).",
    )
    # -- web hardening (issue 22; docs/operations.md) ----------------------------------
    max_request_bytes: int = Field(
        default=16 * 1024 * 1024, ge=1024,
        description="Largest request body in bytes, other than an upload (multipart: "
                    "max_file_bytes plus 1 MiB) or POST /api/items (intake_max_body_bytes).",
    )
    session_cookie_secure: bool = Field(
        default=False,
        description="Mark the console's session cookie Secure (sent over HTTPS only); turn "
                    "on whenever the console is served over TLS.",
    )
    login_max_failures: int = Field(
        default=5, ge=1,
        description="Failed logins in a row for one user name before further attempts are "
                    "refused (429) for a while.",
    )
    login_max_failures_per_address: int = Field(
        default=20, ge=1,
        description="Failed logins in a row from one client address before its attempts "
                    "are refused (429) for a while.",
    )
    login_backoff_seconds: float = Field(
        default=30.0, gt=0,
        description="First refusal period after too many failed logins; doubled after each "
                    "further failure.",
    )
    login_backoff_max_seconds: float = Field(
        default=3600.0, gt=0, description="Longest refusal period after failed logins.",
    )
    notice_redress_url: str | None = Field(
        default=None,
        description="Where uploaders complain about a decision; named in every statement of reasons.",
    )
    # -- DSA Transparency Database (issue 14; docs/legal.md) -----------
    tdb_url: str | None = Field(
        default=None,
        description="The Transparency Database's multiple-statements endpoint (POST, e.g. "
                    "https://transparency.dsa.ec.europa.eu/api/v1/statements); nothing is "
                    "sent while unset (statements wait as pending).",
    )
    tdb_token: str | None = Field(
        default=None, description="The platform's API token for the Transparency Database (Bearer)."
    )
    tdb_batch_size: int = Field(
        default=100, ge=1, le=100,
        description="Statements per request to the Transparency Database (the API takes at most 100).",
    )
    tdb_territorial_scope: list[str] = Field(
        default_factory=lambda: ["AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI",
                                 "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU", "LV", "MT",
                                 "NL", "PL", "PT", "RO", "SE", "SI", "SK", "IS", "LI", "NO"],
        description="Territorial scope sent with every statement: EU/EEA country codes where "
                    "the restriction applies (default: all of the EEA).",
    )

    match_kernel: Literal["auto", "c", "numpy"] = Field(
        default="auto",
        description="Hamming index kernel: the compiled one when built (auto), or force c or numpy.",
    )
    index_snapshot_min: int = Field(
        default=50_000,
        description="Save index snapshots in data_dir/index once the engine holds this many entries.",
    )
    index_poll_seconds: float = Field(
        default=0.25,
        description="How often a running engine reads bank changes made by other processes.",
    )

    # -- Dask (issue 18; docs/scaling.md) ----------------------------------------------
    dask_scheduler: str | None = Field(
        default=None,
        description="Address of a Dask scheduler (tcp://host:8786) whose workers hold the bank "
                    "index in shards; unset: each process holds the whole index.",
    )
    dask_shards: int | None = Field(
        default=None, ge=1, le=4096,
        description="Number of index shards on the Dask cluster; unset: one per worker.",
    )

    # -- HMA-compatible API (issue 13; docs/api.md) ----------------------------------
    hma_compatible: bool = Field(
        default=False,
        description="HMA-compatible mode: /h, /m and /c answer clients in "
                    "hma_trusted_networks without an API key, as HMA does.",
    )
    hma_trusted_networks: list[str] = Field(
        default_factory=lambda: ["127.0.0.0/8", "::1/128"],
        description="Networks (CIDR) whose clients need no key in HMA-compatible mode.",
    )
    hma_roles: list[HmaRole] = Field(
        default_factory=_all_hma_roles,
        description="HMA's roles this server plays: /h needs hasher, /m matcher, /c curator; "
                    "hashing files or URLs on /m and /c needs hasher too.",
    )
    url_fetch: bool = Field(
        default=False,
        description="Let the HMA API's url= parameters download content; off: they are "
                    "refused (content stays home).",
    )
    url_fetch_allow_private: bool = Field(
        default=False,
        description="Let URL fetching reach private, loopback and link-local addresses.",
    )
    url_fetch_max_bytes: int = Field(
        default=20 * 1024 * 1024, gt=0, description="Largest download accepted, in bytes."
    )
    url_fetch_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Longest a download may take, redirects included."
    )
    exchange_apis: list[str] = Field(
        default_factory=lambda: ["sample", "fb_threatexchange", "ncmec", "stop_ncii", "tat"],
        description="Exchange API types (threatexchange's) that exchanges may use.",
    )
    # -- legal workflows (issue 14, docs/legal.md) --------------------------------------
    provider_name: str = Field(
        default="", description="The hosting service provider's name, as Annex II and the "
        "reports give it.")
    provider_contact_point: str = Field(
        default="", description="The provider's contact point for removal orders (TCO Art. 15), "
        "e.g. an e-mail address; given in Annex II.")
    provider_member_state: str = Field(
        default="", description="Member State of the provider's main establishment or legal "
        "representative (two-letter code), given in Annex II.")
    provider_authorised_person: str = Field(
        default="", description="The person authorised to sign Annex II and Annex III forms "
        "for the provider.")
    legal_alert_minutes: float = Field(
        default=15.0, ge=0, description="Minutes before a removal order's deadline when it "
        "alerts (event webhook removal_order.due_soon and a console banner).")
    preservation_days: int = Field(
        default=183, ge=1, description="How long removed content and its data are kept after "
        "the removal (TCO Art. 6(2): six months), unless extended.")
    complaint_days: int = Field(
        default=14, ge=1, description="Days within which a complaint against a removal is to "
        "be decided (the clock shown; TCO Art. 10(2) says 'without undue delay').")
    law_enforcement_webhook_url: str | None = Field(
        default=None, description="Where a case flagged as an imminent threat to life is sent "
        "at once (TCO Art. 14(5)); signed like the other webhooks. Unset: the flag is "
        "recorded and shown, and nothing leaves the machine.")

    @model_validator(mode="after")
    def _webhooks_signed(self) -> Settings:
        from warding.actions.webhooks import check_settings

        check_settings(self)
        return self
    # -- incident response (issue 20, docs/incidents.md) --------------------------------
    retro_window_days: float = Field(
        default=30.0, ge=0, description="Retroactive matching: how far back stored items are "
        "matched against bank entries added, enabled again or loosened (days; 0 = off).")
    retro_poll_seconds: float = Field(
        default=2.0, ge=0, description="How often `warding serve` looks at the change feed for "
        "bank changes to match retroactively (0 = no background retroactive matching).")
    retro_keep_vectors: bool = Field(
        default=True, description="Keep the sentence vector a scan computes for each post "
        "(when banks hold texts) in `retro_item_vectors`, so retroactive `text_semantic` "
        "matching need not embed those posts again (about 2 KB a post).")
    incident_notify_step: int = Field(
        default=100, ge=1, description="An incident's copies count sends the event webhook "
        "`incident.count` each time it crosses a multiple of this step.")

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    def resolved_shared_data(self) -> Path:
        if self.shared_data_dir is not None:
            return self.shared_data_dir
        return Path.cwd().resolve().parent / "shared" / "data"


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides (``None`` values are ignored)."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**clean)  # type: ignore[arg-type]
