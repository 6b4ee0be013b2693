"""Request and response models of the JSON API (separate from the database models)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_SIGNALS = 100


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


#: Signal types whose value may be longer than one stored value (a whole video's vPDQ).
LONG_VALUES = frozenset({"vpdq"})
MAX_VALUE = 512
MAX_LONG_VALUE = 4 * 1024 * 1024


class SignalIn(_In):
    type: str = Field(min_length=1, max_length=40, description="Signal type, e.g. pdq, md5, text.")
    value: str = Field(min_length=1, max_length=MAX_LONG_VALUE,
                       description="The hash value (at most 512 characters, except a vpdq "
                                   "value: threatexchange's JSON list of a video's frames).")

    @model_validator(mode="after")
    def _length(self) -> SignalIn:
        if len(self.value) > MAX_VALUE and self.type.strip().lower() not in LONG_VALUES:
            raise ValueError(f"a {self.type} value is at most {MAX_VALUE} characters")
        return self


class SignalOut(BaseModel):
    type: str
    value: str
    origin: str | None = Field(default=None, description="What the signal was computed from: "
                               "the file's name, or ``ocr`` for the text read in an image.")


class ErrorOut(BaseModel):
    detail: str


class StatusOut(BaseModel):
    status: str
    version: str
    index: dict[str, Any] | None = None


# -- hashing, matching, classifying --------------------------------------------
class OcrTextOut(BaseModel):
    text: str = Field(description="The text read in the image, in reading (logical) order.")
    lang: str | None = Field(description="Its language (ISO 639-1), when it can be told.")
    script: str = Field(description="Its script: Latin, Arabic, Cyrillic or Other.")
    confidence: float = Field(description="Tesseract's mean word confidence, 0-100.")
    model: str = Field(description="The Tesseract model that read it.")


class InsideTextOut(BaseModel):
    where: str = Field(description="The image inside the file: a PDF page's image "
                       "(`report.pdf:p3:img1`) or a video frame (`clip.mp4@12s`).")
    text: str | None = Field(description="The text read there; null when none was read.")
    lang: str | None = None
    script: str | None = None
    confidence: float | None = None
    model: str | None = None
    error: str | None = Field(default=None, description="Why it was not read.")


class HashOut(BaseModel):
    signals: list[SignalOut]
    ocr_text: OcrTextOut | None = Field(
        default=None, description="The text read in an image (OCR); null when none was "
        "found, OCR is off, or the file is not an image.")
    ocr_error: str | None = Field(default=None, description="Why the image's text was not "
                                  "read (over a limit, too slow); its hashes are still there.")
    ocr_inside: list[InsideTextOut] = Field(
        default_factory=list, description="The texts read in the images inside a PDF (pages "
        "that are only a scan) or a video (a few frames); their text signals have origin "
        "`ocr`. Empty for other files or when OCR is off.")


class MatchIn(_In):
    text: str | None = Field(default=None, description="Text to hash and look up.")
    url: str | None = Field(default=None, max_length=8192, description="URL to hash and look up.")
    signals: list[SignalIn] | None = Field(default=None, max_length=MAX_SIGNALS,
                                           description="Precomputed signals to look up.")


class MatchOut(BaseModel):
    bank: str
    signal_type: str
    distance: int | float = Field(description="Hamming distance; 0 for exact types; "
                                  "1 - similarity for text_semantic.")
    entry_id: str
    labels: dict[str, Any]
    provenance: str
    similarity: float | None = Field(default=None,
                                     description="Cosine similarity (text_semantic only).")
    frames: dict[str, Any] | None = Field(
        default=None, description="vpdq only: query_match_percent, bank_match_percent and the "
                                  "timestamps of the frames that matched (query_frames, "
                                  "bank_frames).")


class MatchesOut(BaseModel):
    matches: list[MatchOut]


class ClassifyIn(_In):
    text: str = Field(min_length=1)


class ClassifyOut(BaseModel):
    label: str
    score: float
    violating: bool
    assessed: bool = True
    model: str
    explanation: dict[str, Any]


# -- banks -------------------------------------------------------------------
class BankCreate(_In):
    name: str = Field(min_length=1, max_length=120)
    description: str = Field(default="", max_length=2000)
    thresholds: dict[str, int | float] = Field(
        default_factory=dict,
        description="Per signal type Hamming threshold; text_semantic takes a cosine similarity.")
    auto_action: bool = False


class BankOut(BaseModel):
    name: str
    description: str
    enabled: bool
    thresholds: dict[str, Any]
    auto_action: bool
    entries: int
    signals: int


class BanksOut(BaseModel):
    banks: list[BankOut]


class EntryIn(_In):
    text: str | None = Field(default=None, description="Text whose signals are added.")
    url: str | None = Field(default=None, max_length=8192, description="URL whose signal is added.")
    hashes: list[SignalIn] | None = Field(default=None, max_length=MAX_SIGNALS,
                                          description="Precomputed signals (hashes only).")
    labels: dict[str, Any] = Field(default_factory=dict, description="e.g. {\"category\": ...}")
    provenance: str = Field(default="", max_length=2000)


class AddEntriesOut(BaseModel):
    entries: int
    signals: int
    skipped: int
    entry_ids: list[str]
    errors: list[dict[str, str]]


# -- cases -------------------------------------------------------------------
class CaseItemOut(BaseModel):
    id: int
    source: str
    external_id: str
    kind: str
    account: str | None
    title: str | None
    lang: str | None = None
    text_preview: str


class CaseSummaryOut(BaseModel):
    id: int
    status: str
    severity: int
    opened_at: str
    deadline: str | None
    due_at: str | None = Field(default=None, description="The deadline, or when the case is due "
                                                          "by its severity.")
    overdue: bool = False
    assigned_to: int | None
    claimed_by: str | None = Field(default=None, description="Who holds a live claim on it.")
    reasons: list[str]
    banks: list[str]
    categories: list[str] = Field(default_factory=list)
    score: float | None
    item: CaseItemOut


class CasesOut(BaseModel):
    cases: list[CaseSummaryOut]


class MediaOut(BaseModel):
    sha256: str
    name: str
    mime: str
    size: int


class CaseItemDetailOut(CaseItemOut):
    url: str | None
    text: str | None
    posted_at: str | None
    ingested_at: str
    outlinks: list[Any]
    lang: str | None
    metadata: dict[str, Any]
    media: list[MediaOut]


class CaseDetailOut(CaseSummaryOut):
    item: CaseItemDetailOut
    reasons_detail: list[dict[str, Any]]
    classifications: list[dict[str, Any]]
    decisions: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    similar_decided: list[dict[str, Any]]
    context: dict[str, Any] = Field(default_factory=dict)
    highlights: dict[str, Any] = Field(default_factory=dict)


class ClaimOut(BaseModel):
    case_id: int
    assigned_to: str


class DecisionIn(_In):
    violating: bool
    reason: str = Field(max_length=10_000, description="Why; recorded and audited.")
    category: str | None = Field(default=None, description="Policy category (when violating).")
    exemption: str | None = Field(default=None, description="journalism, research, education, "
                                                            "art or counter_speech.")
    kind: Literal["decision", "appeal", "escalation"] = "decision"


class DecisionOut(BaseModel):
    case_id: int
    decision_id: int
    actions: list[dict[str, Any]]


# -- audit -------------------------------------------------------------------
class AuditVerifyOut(BaseModel):
    ok: bool
    events: int
    first_bad_id: int | None
    problem: str
