"""Request and response bodies of the service (pydantic), which are also its OpenAPI schema.

Requests forbid unknown fields: a misspelt option (``"block": true``) must fail loudly rather
than be ignored. A document is either HTML or text, never both, which the schema itself says
(a union of two closed objects), so clients and schemathesis see the same rule the server applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator, BaseModel, BeforeValidator, ConfigDict, Discriminator, Field,
    StringConstraints, Tag, ValidationError, ValidatorFunctionWrapHandler, WithJsonSchema,
    WrapValidator,
)
from pydantic_core import PydanticCustomError

from filter.blocks import well_formed
from train.examples import LABEL_PATTERN


def _well_formed(value: Any) -> Any:
    """A string with its lone surrogates made U+FFFD (`well_formed`), as the example files and
    `/v1/clean` take it: pydantic cannot measure the length of a string holding one, and refused
    the whole request as "unable to parse raw data as a unicode string"."""
    return well_formed(value) if isinstance(value, str) else value


#: for a string with a length limit or a pattern: made well-formed before it is measured
Measured = BeforeValidator(_well_formed)

Url = Annotated[str, Field(max_length=4096, description="The page's address; used only to resolve "
                                                           "relative links, never fetched."),
                Measured]


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorResponse(BaseModel):
    """Every error the service returns."""

    error: str = Field(description="What went wrong, as a stable code (e.g. `payload_too_large`).")
    detail: str = Field(description="A message for people: what was wrong and which limit was hit.")


# -- cleaning -----------------------------------------------------------------------------------

PRECISION = ("Hold blocks to stricter content thresholds: less of the page's furniture kept, a "
             "little more of its content lost (as trafilatura's `favor_precision`). Default: "
             "the service's `--favor-precision` setting (off unless set).")


class HtmlDocument(_Closed):
    """A raw HTML page (any charset it declares; sent as a JSON string)."""

    html: str
    url: Url | None = None
    blocks: bool = Field(False, strict=True,  # true or false: "yes" is a mistake, not a yes
                         description="Return every block with its label and score.")
    favor_precision: bool | None = Field(None, strict=True, description=PRECISION)


class TextDocument(_Closed):
    """Text an extractor already produced: one block per non-empty line."""

    text: str
    blocks: bool = Field(False, strict=True,  # true or false: "yes" is a mistake, not a yes
                         description="Return every block with its label and score.")
    favor_precision: bool | None = Field(None, strict=True, description=PRECISION)


def _document_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        return "html" if "html" in value else "text" if "text" in value else None
    return "html" if isinstance(value, HtmlDocument) else "text" if isinstance(value, TextDocument) else None


#: field names a kindless document's error quotes, and characters of each
_NAMED_FIELDS, _NAME_CHARS = 5, 40


def _kindless_named(value: Any) -> Any:
    """Refuse an object with neither `html` nor `text`, naming the fields it has: the
    discriminator's own error ("a document needs 'html' or 'text'") hid a crawler's misspelt
    ``{"htlm": …}``, which unknown fields elsewhere name (``body.foo: Extra inputs``)."""
    if isinstance(value, dict) and value and "html" not in value and "text" not in value:
        names = [repr(str(name)[:_NAME_CHARS]) for name in list(value)[:_NAMED_FIELDS]]
        more = f" and {len(value) - _NAMED_FIELDS} more" if len(value) > _NAMED_FIELDS else ""
        raise PydanticCustomError("missing_document", "a document needs 'html' or 'text', not "
                                  "{fields}", {"fields": ", ".join(names) + more})
    return value


#: one document; which of the two it is follows from its key, so errors name the right fields
CleanRequest = Annotated[
    Annotated[HtmlDocument, Tag("html")] | Annotated[TextDocument, Tag("text")],
    Discriminator(_document_kind, custom_error_type="missing_document",
                  custom_error_message="a document needs 'html' or 'text'"),
    BeforeValidator(_kindless_named),
]


class RelatedLinkOut(BaseModel):
    title: str = Field(description="The link's words as a reader sees them; where they name no "
                                   "story (\"Learn more\", or the words of another related "
                                   "link), its `aria-label` or `title`, else its address's words.")
    url: str = Field(description="The address a browser follows: absolute when the page's URL "
                                 "or `<base href>` is known.")


class BlockOut(BaseModel):
    text: str
    label: str
    score: float
    kind: str
    extracted: bool = Field(True, description="False for a block trafilatura left out that the "
                            "completion stage restored from the article's container.")


#: fields named `model_version`: pydantic before 2.10 protected the whole `model_` namespace
#: and warned about them at every start of the service
_MODEL_FIELDS = ConfigDict(protected_namespaces=())


class CleanResponse(BaseModel):
    """A cleaned document: `text` holds only the `content` blocks."""

    model_config = _MODEL_FIELDS

    text: str
    title: str | None = Field(description="The headline: the page's only `<h1>` when it shares "
                              "half its letters with the title's words, else the title without "
                              "the site's name where the page shows which part that is.")
    author: str | None = Field(description="From the page's meta tags and JSON-LD, names joined "
                               "by \"; \"; no placeholder (\"Admin\") or address.")
    date: str | None = Field(description="Publication date, YYYY-MM-DD.")
    language: str | None = Field(description="The language the page declares (`<html lang>`), "
                                 "lower case (`en`); not detected from the text.")
    url: str | None
    related_links: list[RelatedLinkOut]
    label_counts: dict[str, int]
    model_version: str
    empty_reason: str | None = Field(description="Why `text` is empty, when it is.")
    blocks: list[BlockOut] | None = Field(None, description="Present when the request asked for blocks.")


class DecodedPage(BaseModel):
    html: str = Field(description="The page as text, decoded as `/v1/clean` decodes it.")


@dataclass(frozen=True)
class InvalidDocument:
    """A batch's document that is not a valid document: it gets its own 422 among the batch's
    results, as it would alone, instead of failing the documents beside it. `errors` are
    pydantic's, located inside the document."""

    errors: tuple[dict, ...]


def _each_on_its_own(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    if isinstance(value, dict) and "html" in value and "text" in value:
        return InvalidDocument(({"loc": (), "msg": "a document has 'html' or 'text', not both"},))
    try:
        return handler(value)
    except ValidationError as err:
        # the first part of a location is the union's tag ("html" or "text")
        return InvalidDocument(tuple({**e, "loc": e["loc"][1:]} for e in err.errors()))


class BatchRequest(_Closed):
    documents: list[Annotated[CleanRequest, WrapValidator(_each_on_its_own)]] = Field(
        min_length=1, description="At most the configured batch size (default 64). A document "
                                  "that is not valid gets its own 422 in the results.")


class BatchItem(BaseModel):
    """One document's outcome: `result`, or `error` and `detail` with the status that document
    alone would have got."""

    status: int
    result: CleanResponse | None = None
    error: str | None = None
    detail: str | None = None


class BatchResponse(BaseModel):
    results: list[BatchItem] = Field(description="In the order of the request's documents.")


# -- labelled examples --------------------------------------------------------------------------

Label = Annotated[str, Field(pattern=LABEL_PATTERN.pattern, examples=["content", "related"]),
                  Measured]


Short = Annotated[str, Field(min_length=1, max_length=200), Measured]
#: who labelled, or where a label came from: without white space around it, none alone ("  "
#: was stored as a labeller's name, which the labelling page, trimming its field, never sends)
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
                 Measured]


def _whole_number_as_text(value: Any) -> Any:
    """An id given as a whole number, as its digits: the example files' reader takes it so
    (`parse_example`), and the same page posted here was refused, with every other in the
    request."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


ExampleId = Annotated[Short, BeforeValidator(_whole_number_as_text), WithJsonSchema(
    {"anyOf": [{"type": "string", "minLength": 1, "maxLength": 200}, {"type": "integer"}]})]


def _moment(value: str) -> str:
    """A time the store can compare with the times it holds (kept as written)."""
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("must be a time in ISO 8601, such as 2026-12-01T10:00:00+00:00") from None
    return value


Moment = Annotated[str, Field(max_length=64), Measured, AfterValidator(_moment)]


class ExampleBlockIn(_Closed):
    text: Annotated[str, Measured] = Field(min_length=1)
    label: Label
    reviewed: bool | None = Field(None, strict=True,  # true or false: "yes" is a mistake
                                  description="Default true: a person gave this label.")
    labelled_by: Name | None = None
    labelled_at: Moment | None = Field(None, description="When the label was given (ISO 8601, "
                                       "UTC unless it names a zone); default: now. A label "
                                       "given before the one stored for its block does not "
                                       "replace it.")
    source: Name | None = None


class ExampleIn(_Closed):
    """A labelled page in the JSON Lines example format (`../shared/DESIGN.md`)."""

    # the page is its html or its text, not both (`train.examples.parse_example` says so)
    model_config = ConfigDict(extra="forbid", json_schema_extra={"oneOf": [
        {"required": [kind], "properties": {kind: {"type": "string"}}} for kind in ("html", "text")]})

    id: ExampleId | None = Field(None, description="Default: derived from the document's hash; "
                                 "a whole number is taken as its digits.")
    url: Url | None = None
    html: str | None = None
    text: str | None = None
    source: Name | None = None
    gold: str | None = None
    # may be empty: such a page (as `GET` returns one stored before pages without a label were
    # skipped) is skipped and reported in `problems`, as the example files' reader skips it; a
    # minimum of one failed the request's other pages with it. Validation stops at the first
    # bad block (`fail_fast`, as for the lists below): every block of bad fields was validated
    # and listed, on the event loop (99,000 of them, or 10,000 of 94 unknown fields each, held
    # it 5 to 12 s, `/healthz` too)
    blocks: list[ExampleBlockIn] = Field(fail_fast=True)


class ExamplesIn(_Closed):
    examples: list[ExampleIn] = Field(min_length=1, max_length=1000, fail_fast=True)
    labelled_by: Name = Field("api", description="Who labelled them, for labels that do not say.")


class ExampleBlockOut(BaseModel):
    text: str
    label: str
    source: str | None = None
    labelled_by: str | None = None
    labelled_at: str | None = None
    reviewed: bool | None = None


class ExampleOut(BaseModel):
    id: str
    url: str | None = None
    html: str | None = None
    text: str | None = None
    source: str | None = None
    gold: str | None = None
    blocks: list[ExampleBlockOut]


class AddReportOut(BaseModel):
    pages_added: int
    pages_updated: int
    labels_added: int
    labels_changed: int
    labels_confirmed: int = Field(description="Stored proposals sent again with the same label, "
                                  "now reviewed.")
    labels_unchanged: int
    labels_kept: int = Field(description="Labels not applied: a reviewed label was already "
                             "stored, and the label sent was unreviewed or given before it; or "
                             "the label sent was a model's proposal (`model:…`, unreviewed) and "
                             "the stored one bootstrap's alignment with a gold text (`align:…`).")
    merged: dict[str, str] = Field(description="Given id -> stored id holding the same document.")
    refused: dict[str, str] = Field(default_factory=dict, description="Given id -> why the page "
                                    "was not stored: its id holds another page (another url).")
    kept: dict[str, list[int]] = Field(default_factory=dict, description="Given id -> the "
                                       "positions, in the example's `blocks` as sent, of the "
                                       "labels counted in `labels_kept`.")


class ProblemOut(BaseModel):
    where: str
    message: str


class ExamplesAdded(BaseModel):
    ids: list[str | None] = Field(description="The stored id of each example, in request "
                                  "order; null for a page skipped, as `problems` says.")
    report: AddReportOut
    problems: list[ProblemOut] = Field(description="What was not stored as given, and why.")
    labelled_at: str = Field(description="The time given to the labels that state none (ISO "
                             "8601, UTC). A client that sends those labels again gives them this "
                             "`labelled_at`, so that a correction saved by someone else since is "
                             "not undone.")


class StoreCount(BaseModel):
    pages: int
    labels: int
    by_label: dict[str, int]
    unreviewed: int


class SavedLabelsIn(_Closed):
    document: str = Field(pattern="^[0-9a-f]{64}$", description="sha256 of the kind (`html` or "
                          "`text`), a NUL and the document, as for `GET /v1/examples`.")
    blocks: list[Annotated[str, Measured]] = Field(
        max_length=100_000, fail_fast=True, description="The texts of the blocks the page shows, in order.")


class SavedLabels(BaseModel):
    id: str | None = Field(description="The stored page holding the document; null if none.")
    blocks: list[ExampleBlockOut | None] = Field(
        description="Per block asked about, the stored label it takes as training attaches "
                    "labels (by text, also across a change of segmentation; a person's label "
                    "before a model's proposal), with that label's provenance; null for a "
                    "block no stored label reaches.")


class ExamplesPage(BaseModel):
    examples: list[ExampleOut]
    next_offset: int | None = Field(description="Offset of the next page; null on the last one.")
    store: StoreCount = Field(description="What the whole store holds.")


# -- model and health ---------------------------------------------------------------------------

class ModelOut(BaseModel):
    version: str
    file: str
    labels: list[str]
    loaded_at: str
    workers: int = Field(description="Cleaning processes serving this model.")
    favor_precision: bool = Field(description="The service's default for documents that do not "
                                              "say (`serve --favor-precision`).")
    manifest: dict[str, Any]
    available: list[str] = Field(description="Model files in the models folder that reload accepts.")


class ReloadRequest(_Closed):
    model: str | None = Field(None, max_length=255, description="A model file name in the models "
                                                                "folder; default: the active model.")


class ReloadResponse(BaseModel):
    changed: bool = Field(description="The model served changed.")
    restarted: bool = Field(description="A new set of cleaning processes took over: always when "
                                        "the model changed; for the same model, when the pool "
                                        "had lost processes it could not replace.")
    previous: str = Field(description="Version served before the reload.")
    model: ModelOut


class HealthOut(BaseModel):
    status: Literal["ok"] = "ok"


class ReadyOut(BaseModel):
    model_config = _MODEL_FIELDS

    status: Literal["ready"] = "ready"
    model_version: str
    workers: int
