"""What the service accepts and answers, with the limits a request must keep."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator

MAX_TITLE_CHARS = 300  # StackOverflow allows 150
MAX_BODY_CHARS = 100_000  # StackOverflow allows 30,000 (HTML about three times that)
MAX_BATCH = 64
MAX_K = 50


class Question(BaseModel):
    """One question to tag."""

    model_config = ConfigDict(extra="forbid")

    title: StrictStr = Field(..., max_length=MAX_TITLE_CHARS,
                             description="The question's title (not blank).")
    body: StrictStr = Field("", max_length=MAX_BODY_CHARS,
                            description="Its body, as HTML or plain text.")

    @field_validator("title")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the title is blank: a question needs a title to be tagged")
        return value


class SuggestRequest(Question):
    k: int = Field(5, ge=1, le=MAX_K, description="Tags and clusters returned.")
    model: StrictStr | None = Field(None, description="A registered tag model's name "
                                                      "(default: the production model).")


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    questions: list[Question] = Field(..., min_length=1, max_length=MAX_BATCH,
                                      description=f"At most {MAX_BATCH} questions.")
    k: int = Field(5, ge=1, le=MAX_K)
    model: StrictStr | None = None


class Tag(BaseModel):
    tag: str
    score: float
    above_threshold: bool
    cluster: str | None = Field(None, description="Its cluster, named by its representative "
                                                  "tag.")
    path: list[int] | None = Field(None, description="Its path code in the tag tree.")


class Cluster(BaseModel):
    cluster: str
    score: float
    above_threshold: bool
    path: list[int]


class Score(BaseModel):
    model: str
    score: float
    low: float | None = Field(None, description="The 80 % interval, when the model gives one.")
    high: float | None = None
    horizon_days: float


class Suggestion(BaseModel):
    model: str
    version: str
    tags: list[Tag]
    clusters: list[Cluster]
    tags_from_cluster: bool = Field(False, description="A cluster-only model: the tags are its "
                                                       "top cluster's members.")
    score: Score | None = None


class BatchSuggestion(BaseModel):
    suggestions: list[Suggestion]


class ServingModel(BaseModel):
    task: str
    model: str
    version: str
    validation: float | None


class ModelsAnswer(BaseModel):
    serving: list[ServingModel]
