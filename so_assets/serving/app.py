"""The suggestion service: ``POST /v1/suggest``, ``POST /v1/suggest-batch``, ``GET /v1/models``,
``GET /healthz``, OpenAPI docs at ``/docs``, and a page at ``/`` that suggests as you type.

Bad input gets a 4xx naming the field (FastAPI's validation, bodies over the size limit
refused before they are read, undecodable bytes refused); nothing a client sends makes a 500.
It has no authentication: it binds 127.0.0.1 unless told otherwise, and an authenticating
proxy belongs in front before it binds another address (deploy/README.md).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import BaseHTTPMiddleware

from so_assets.serving.batcher import Batcher
from so_assets.serving.holder import Loaded, ModelHolder
from so_assets.serving.schemas import (
    MAX_BATCH,
    BatchRequest,
    BatchSuggestion,
    Cluster,
    ModelsAnswer,
    Score,
    ServingModel,
    Suggestion,
    SuggestRequest,
    Tag,
)

MAX_REQUEST_BYTES = 2 * 2**20
"""Larger requests are refused with 413 before their body is read."""
HORIZON_DAYS = 365.0


class _LimitSize(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next):
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_REQUEST_BYTES):
            return JSONResponse(status_code=413, content={"detail": [{
                "loc": ["body"], "type": "too_large",
                "msg": f"the request is larger than {MAX_REQUEST_BYTES // 2**20} MB: a title "
                       "holds at most 300 characters and a body 100,000"}]})
        return await call_next(request)


def _suggestions(loaded: Loaded, questions: list[tuple[str, str]], k: int
                 ) -> list[Suggestion]:
    from so_assets.models.prediction.predict import predict_many, score_many

    labels = loaded.tag_model.labels
    paths = dict(zip(labels.tags, labels.tag_paths or [[c] for c in labels.tag_cluster],
                     strict=True))
    cluster_of = {t: labels.cluster_names[c] for t, c in zip(labels.tags, labels.tag_cluster,
                                                            strict=True)}
    index = {name: i for i, name in enumerate(labels.cluster_names)}
    predictions = predict_many(loaded.tag_name, loaded.tag_model, loaded.encoder, questions, k)
    scores = (score_many(loaded.score_name, loaded.score_model, predictions,
                         [None] * len(predictions), None, HORIZON_DAYS)
              if loaded.score_model is not None else [None] * len(predictions))
    return [Suggestion(
        model=loaded.tag_name, version=loaded.tag_version,
        tags=[Tag(tag=t, score=s, above_threshold=c, cluster=cluster_of.get(t),
                  path=paths.get(t)) for t, s, c in p.tags],
        clusters=[Cluster(cluster=name, score=s, above_threshold=c, path=[index[name]])
                  for name, s, c in p.clusters],
        tags_from_cluster=p.tags_from_cluster,
        score=None if score is None else Score(model=score.model, score=score.score,
                                               low=score.low, high=score.high,
                                               horizon_days=score.horizon_days))
        for p, score in zip(predictions, scores, strict=True)]


def _one_blas_thread() -> None:
    """NumPy's OpenBLAS on one thread: its threads spin after each call and, on 2 cores, take
    them from torch's (hybrid's one question: 124 ms with both spinning, 41 ms with one)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")


def create_app(data_dir: Path, poll_seconds: float = 1.0) -> FastAPI:
    """The service over the production models under ``data_dir/models`` (loaded now)."""
    models_dir = Path(data_dir).absolute() / "models"
    batcher = Batcher(_suggestions, MAX_BATCH)
    holder = ModelHolder(models_dir, poll_seconds, batcher.call)
    _one_blas_thread()  # after loading: it caps the BLAS libraries loaded so far
    app = FastAPI(title="so_assets suggestions", version="1",
                  description="Tags, clusters and a score for StackOverflow questions, from "
                              "the production models (see /v1/models).")
    app.add_middleware(_LimitSize)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # FastAPI could not decode the body (bytes, not JSON)
            return JSONResponse(status_code=400, content={"detail": [{
                "loc": ["body"], "type": "json_invalid",
                "msg": "the request body is not JSON in UTF-8"}]})
        return JSONResponse(status_code=exc.status_code, content={"detail": exc.detail})

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")}
                  for e in exc.errors()]
        return JSONResponse(status_code=422, content={"detail": errors})

    def pick(model: str | None) -> Loaded:
        if model is None:
            return holder.current
        from so_assets.models.registry import TAG_MODELS

        if model not in {s.name for s in TAG_MODELS}:
            raise _BadField("model", f"no tag model {model!r}; registered: "
                                     f"{sorted(s.name for s in TAG_MODELS)}")
        try:
            return holder.named(model)
        except FileNotFoundError as error:
            raise _BadField("model", str(error)) from None

    @app.exception_handler(_BadField)
    async def _bad_field(request: Request, exc: _BadField) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": [{
            "loc": ["body", exc.field], "type": "value_error", "msg": exc.message}]})

    @app.post("/v1/suggest", response_model=Suggestion)
    def suggest(request: SuggestRequest) -> Suggestion:
        """Tags (scores, above-threshold flags, clusters and path codes), clusters and the
        predicted score of one question."""
        return batcher.run(pick(request.model), [(request.title, request.body)],
                           request.k)[0]

    @app.post("/v1/suggest-batch", response_model=BatchSuggestion,
              description=f"Up to {MAX_BATCH} questions in one pass.")
    def suggest_batch(request: BatchRequest) -> BatchSuggestion:
        return BatchSuggestion(suggestions=batcher.run(
            pick(request.model), [(q.title, q.body) for q in request.questions], request.k))

    @app.get("/v1/models", response_model=ModelsAnswer)
    def models() -> ModelsAnswer:
        """What serves: the tag and the score model, their versions and validation figures."""
        loaded = holder.current
        serving = [ServingModel(task="tag", model=loaded.tag_name, version=loaded.tag_version,
                                validation=loaded.validation.get("tag"))]
        if loaded.score_model is not None:
            serving.append(ServingModel(task="score", model=loaded.score_name,
                                        version=loaded.score_version,
                                        validation=loaded.validation.get("score")))
        return ModelsAnswer(serving=serving)

    @app.get("/healthz")
    def healthz() -> dict:
        loaded = holder.current
        return {"status": "ok", "model": loaded.tag_name, "version": loaded.tag_version}

    page = files("so_assets.serving").joinpath("page.html").read_text(encoding="utf-8")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> str:
        return page

    return app


class _BadField(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message
