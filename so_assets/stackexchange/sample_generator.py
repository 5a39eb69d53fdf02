"""Deterministic generator of the bundled sample, in the Stack Exchange API's JSON shape.

It writes ``questions/<YYYY-MM-DD>.json`` (``/questions`` items with ``body``),
``answers/<YYYY-MM-DD>.json`` (the accepted answers, ``/answers`` items with ``body``) and
``manifest.json``. The same seed gives the same files; ``n_questions`` scales to 100,000+ for
benchmarks. Tag popularity is Zipf-like (a long tail of rare tags), scores are heavy-tailed and
the delay to the accepted answer mixes minutes, hours and days.

A question's score depends on what is known when it is posted, as on the site: its topic,
whether it shows code, its length and the asker's reputation, plus noise, so a score model has
something real to learn and a mean predictor can be beaten.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from so_assets.stackexchange.tag_universe import TagUniverse, tag_universe

SITE = "stackoverflow"
FIRST_QUESTION_ID = 78_100_000


@dataclass(frozen=True)
class Topic:
    name: str
    tags: tuple[str, ...]
    objects: tuple[str, ...]
    actions: tuple[str, ...]
    errors: tuple[str, ...]
    code: tuple[str, ...]


TOPICS: tuple[Topic, ...] = (
    Topic("python", ("python", "pandas", "numpy", "django", "flask", "python-3.x", "dataframe",
                     "matplotlib", "asyncio", "pytest", "pydantic"),
          ("a dataframe column", "a list of dicts", "a nested dictionary", "a numpy array",
           "a Django queryset", "a virtual environment", "a CSV file", "an async generator"),
          ("group", "merge", "filter", "vectorize", "serialize", "sort", "reshape", "parse"),
          ("KeyError", "ValueError: cannot reshape array", "ModuleNotFoundError",
           "SettingWithCopyWarning", "RuntimeError: event loop is closed"),
          ("import pandas as pd\ndf = pd.read_csv('data.csv')\nprint(df.groupby('key').sum())",
           "def handler(request):\n    items = [x for x in request.items if x.ok]\n    return items",
           "arr = np.zeros((3, 4))\narr.reshape(2, 6)")),
    Topic("javascript", ("javascript", "reactjs", "node.js", "typescript", "jquery", "html",
                         "css", "next.js", "express", "vue.js", "webpack"),
          ("a React component", "a promise chain", "an event listener", "a JSON response",
           "the DOM", "a TypeScript interface", "an Express route", "a flexbox layout"),
          ("render", "await", "debounce", "bind", "memoize", "type", "center", "bundle"),
          ("TypeError: Cannot read properties of undefined", "Uncaught ReferenceError",
           "CORS policy blocked the request", "Hydration failed"),
          ("const res = await fetch('/api/items');\nconst data = await res.json();",
           "useEffect(() => {\n  setCount(c => c + 1);\n}, []);",
           "app.get('/users/:id', (req, res) => {\n  res.json({ id: req.params.id });\n});")),
    Topic("java", ("java", "spring-boot", "spring", "maven", "hibernate", "jpa", "gradle",
                   "junit", "kotlin"),
          ("a Spring bean", "a JPA entity", "a stream of objects", "a HashMap", "a REST controller",
           "a Gradle build", "a Maven dependency"),
          ("inject", "map", "collect", "configure", "persist", "mock", "override"),
          ("NullPointerException", "BeanCreationException", "LazyInitializationException",
           "ClassNotFoundException"),
          ("List<String> names = users.stream()\n    .map(User::getName)\n    .collect(Collectors.toList());",
           "@GetMapping(\"/items\")\npublic List<Item> all() {\n    return repo.findAll();\n}")),
    Topic("database", ("sql", "mysql", "postgresql", "mongodb", "sql-server", "sqlite", "redis",
                       "oracle", "sqlalchemy", "database-design"),
          ("a join query", "an index", "a foreign key", "a stored procedure", "a transaction",
           "a JSON column", "a window function", "an aggregate pipeline"),
          ("optimize", "join", "aggregate", "migrate", "lock", "index", "pivot"),
          ("deadlock detected", "duplicate key value violates unique constraint",
           "Lock wait timeout exceeded", "syntax error at or near"),
          ("SELECT u.id, COUNT(o.id)\nFROM users u\nLEFT JOIN orders o ON o.user_id = u.id\nGROUP BY u.id;",
           "db.orders.aggregate([\n  { $group: { _id: \"$user\", total: { $sum: \"$amount\" } } }\n])")),
    Topic("devops", ("docker", "kubernetes", "git", "linux", "bash", "github-actions", "nginx",
                     "amazon-web-services", "terraform", "docker-compose"),
          ("a Docker image", "a Kubernetes pod", "a git branch", "a bash script", "a CI workflow",
           "an nginx reverse proxy", "an S3 bucket", "a Terraform module"),
          ("deploy", "rebase", "mount", "expose", "cache", "schedule", "proxy"),
          ("CrashLoopBackOff", "permission denied", "fatal: refusing to merge unrelated histories",
           "502 Bad Gateway"),
          ("FROM python:3.11-slim\nCOPY . /app\nRUN pip install -r requirements.txt",
           "git rebase -i HEAD~3\ngit push --force-with-lease",
           "for f in *.log; do\n  gzip \"$f\"\ndone")),
    Topic("mobile", ("android", "ios", "swift", "flutter", "dart", "react-native",
                     "android-studio", "swiftui", "xcode"),
          ("a RecyclerView", "a SwiftUI view", "a Flutter widget", "a navigation stack",
           "push notifications", "an Xcode build"),
          ("layout", "animate", "navigate", "sign", "persist", "localize"),
          ("Gradle sync failed", "Thread 1: Fatal error", "RenderFlex overflowed",
           "INSTALL_FAILED_UPDATE_INCOMPATIBLE"),
          ("override fun onCreate(savedInstanceState: Bundle?) {\n    super.onCreate(savedInstanceState)\n}",
           "struct ContentView: View {\n    var body: some View { Text(\"Hi\") }\n}")),
    Topic("csharp", ("c#", ".net", "asp.net-core", "entity-framework", "linq", "wpf", "unity3d",
                     "azure"),
          ("a LINQ query", "an EF Core migration", "a WPF binding", "a dependency injection container",
           "a Unity coroutine", "an Azure function"),
          ("bind", "query", "inject", "serialize", "await", "migrate"),
          ("InvalidOperationException", "System.NullReferenceException",
           "The instance of entity type cannot be tracked"),
          ("var names = people.Where(p => p.Age > 30)\n                   .Select(p => p.Name)\n                   .ToList();",)),
    Topic("ml", ("machine-learning", "tensorflow", "pytorch", "scikit-learn", "keras",
                 "deep-learning", "nlp", "huggingface-transformers", "computer-vision"),
          ("a training loop", "a tokenizer", "a confusion matrix", "a Keras model",
           "a PyTorch tensor", "an embedding layer", "a learning rate schedule"),
          ("train", "fine-tune", "evaluate", "normalize", "batch", "regularize"),
          ("CUDA out of memory", "shape mismatch in matmul", "loss is nan",
           "expected scalar type Float but found Double"),
          ("model = nn.Sequential(nn.Linear(384, 128), nn.ReLU(), nn.Linear(128, 10))\nloss = criterion(model(x), y)",
           "clf = LogisticRegression(max_iter=1000)\nclf.fit(X_train, y_train)")),
    Topic("cpp", ("c++", "c", "cmake", "pointers", "templates", "multithreading", "gcc",
                  "memory-management"),
          ("a raw pointer", "a template class", "a mutex", "a CMake target", "a vector of structs",
           "a segmentation fault"),
          ("allocate", "link", "lock", "specialize", "free", "compile"),
          ("segmentation fault (core dumped)", "undefined reference to", "double free detected"),
          ("std::vector<int> v{1, 2, 3};\nfor (auto& x : v) { x *= 2; }",
           "int *p = malloc(sizeof(int) * n);\nfree(p);")),
    Topic("rare", ("ntp", "xslt", "cobol", "vba", "fortran", "prolog", "haskell", "elixir",
                   "ocaml", "lua", "perl", "tcl", "smalltalk", "ada", "erlang", "racket",
                   "apl", "forth"),
          ("a legacy macro", "a pattern match", "a recursive function", "a clock offset",
           "a transformation template"),
          ("port", "rewrite", "synchronize", "evaluate", "transform"),
          ("stack overflow in recursion", "no matching clause", "type mismatch"),
          ("main = do\n  print (foldr (+) 0 [1..10])",
           "Sub Demo()\n  MsgBox \"Hello\"\nEnd Sub")),
)

_TITLE_TEMPLATES = (
    "How do I {action} {object} in {tag}?",
    "{Tag}: {error} when I {action} {object}",
    "Why does {object} fail to {action} with {tag}?",
    "Best way to {action} {object} using {tag}",
    "{error} after upgrading {tag}",
    "Is it possible to {action} {object} without {tag2}?",
    "How to {action} {object} with {tag} and {tag2}",
    "{Tag} {object} does not {action} as expected",
)
_SENTENCES = (
    "I am trying to {action} {object} but it does not work.",
    "When I run it I get <code>{error}</code> every time.",
    "I already read the {tag} documentation and several answers here.",
    "This used to work before I switched to {tag2}.",
    "What is the idiomatic way to {action} {object}?",
    "Performance matters because there are millions of rows.",
    "Here is a minimal example that reproduces the problem:",
    "Any pointers would be appreciated.",
)


def generate_sample(
    out_dir: Path,
    n_questions: int = 1400,
    n_days: int = 21,
    start_day: date = date(2024, 3, 1),
    seed: int = 20240301,
    duplicate_share: float = 0.005,
    n_tags: int | None = None,
) -> dict[str, object]:
    """Write the sample to ``out_dir`` and return its manifest. ``n_tags``: a universe of
    that many tags (see :mod:`.tag_universe`) instead of the topics' hand-picked ~100."""
    rng = np.random.default_rng(seed)
    rare = next(i for i, t in enumerate(TOPICS) if t.name == "rare")
    universe = tag_universe([t.tags for t in TOPICS], rare, n_tags, seed)
    day_weights = np.array(
        [0.7 if (start_day + timedelta(d)).weekday() >= 5 else 1.0 for d in range(n_days)]
    )
    day_of = rng.choice(n_days, size=n_questions, p=day_weights / day_weights.sum())
    # Ids grow with creation time, as on the site.
    offsets = np.sort(day_of * 86_400 + rng.integers(0, 86_400, size=n_questions))
    origin = datetime(start_day.year, start_day.month, start_day.day, tzinfo=UTC)
    per_day: dict[date, list[dict]] = {start_day + timedelta(d): [] for d in range(n_days)}
    answers_per_day: dict[date, list[dict]] = {day: [] for day in per_day}
    answer_id = FIRST_QUESTION_ID + n_questions * 3
    for index in range(n_questions):
        created = origin + timedelta(seconds=int(offsets[index]))
        day = created.date()
        question, answer = _question(rng, FIRST_QUESTION_ID + index, created, universe,
                                     answer_id)
        answer_id += int(rng.integers(1, 4))
        per_day[day].append(question)
        if answer is not None:
            answers_per_day[day].append(answer)
    # The live API can serve an item twice across pages; the sample does too.
    for pick in rng.choice(n_questions, size=round(n_questions * duplicate_share), replace=False):
        day = (origin + timedelta(seconds=int(offsets[int(pick)]))).date()
        items = per_day[day]
        twin = next(q for q in items if q["question_id"] == FIRST_QUESTION_ID + int(pick))
        items.insert(items.index(twin) + 1, dict(twin))
    return _write(out_dir, per_day, answers_per_day, seed, n_questions, n_tags)


# How much a topic's questions are upvoted, on the scale of the latent quality.
TOPIC_APPEAL = {"python": 0.4, "javascript": 0.1, "java": 0.0, "database": 0.3,
                "devops": 0.5, "mobile": -0.2, "csharp": -0.1, "ml": 0.6, "cpp": 0.2,
                "rare": -0.6}


def _question(rng: np.random.Generator, qid: int, created: datetime, universe: TagUniverse,
              answer_id: int) -> tuple[dict, dict | None]:
    chosen = universe.question_tags(rng)
    topic = TOPICS[int(universe.topic[chosen[0]])]
    tags = [universe.names[i] for i in chosen]
    words = _words(rng, topic, tags)
    title = str(rng.choice(_TITLE_TEMPLATES)).format(**words)
    with_code = bool(rng.random() < 0.65)
    body = _body(rng, topic, words, with_code) + _own_words(universe, chosen)
    reputation = int(rng.lognormal(5.0, 2.0)) + 1
    quality = (TOPIC_APPEAL[topic.name] + 0.35 * (np.log10(reputation) - 2)
               + (0.5 if with_code else -0.4) + 0.15 * (len(tags) - 3)
               + 0.002 * (len(body) - 400) + rng.normal(0, 0.5))
    score = _score(rng, quality)
    epoch = int(created.timestamp())
    accepted = rng.random() < 0.30 + 0.35 / (1 + np.exp(-score / 3))
    answer_count = int(rng.poisson(1.4)) + (1 if accepted else 0)
    item = {
        "tags": tags,
        "owner": {"user_id": int(rng.integers(1_000, 23_000_000)), "user_type": "registered",
                  "reputation": reputation},
        "is_answered": bool(accepted or (answer_count > 0 and score > 0)),
        "view_count": int(rng.lognormal(4.5, 1.2)) + max(score, 0) * 40,
        "answer_count": answer_count,
        "score": score,
        "last_activity_date": epoch + int(rng.integers(0, 3 * 86_400)),
        "creation_date": epoch,
        "question_id": qid,
        "link": f"https://stackoverflow.com/questions/{qid}",
        "title": title.replace('"', "&quot;").replace("'", "&#39;"),
        "body": body,
    }
    if not accepted:
        return item, None
    item["accepted_answer_id"] = answer_id
    answer_words = _words(rng, topic, tags)
    answer = {
        "owner": {"user_id": int(rng.integers(1_000, 23_000_000)), "user_type": "registered"},
        "is_accepted": True,
        "score": max(0, int(score * rng.uniform(0.3, 1.6) + rng.poisson(1.5))),
        "last_activity_date": epoch,
        "creation_date": epoch + int(_answer_delay_seconds(rng)),
        "answer_id": answer_id,
        "question_id": qid,
        "body": _body(rng, topic, answer_words, bool(rng.random() < 0.75)),
    }
    return item, answer


def _own_words(universe: TagUniverse, chosen: list[int]) -> str:
    """A paragraph with the added tags' own words (empty for hand-picked tags)."""
    sentences = [f"It is about {' and '.join(universe.words[i])} in {universe.names[i]}."
                 for i in chosen if universe.words[i]]
    return f"\n<p>{' '.join(sentences)}</p>\n" if sentences else ""


def _words(rng: np.random.Generator, topic: Topic, tags: list[str]) -> dict[str, str]:
    tag = tags[0]
    tag2 = tags[1] if len(tags) > 1 else str(rng.choice(topic.tags))
    return {
        "tag": tag, "Tag": tag[:1].upper() + tag[1:], "tag2": tag2,
        "object": str(rng.choice(topic.objects)), "action": str(rng.choice(topic.actions)),
        "error": str(rng.choice(topic.errors)),
    }


def _body(rng: np.random.Generator, topic: Topic, words: dict[str, str], with_code: bool) -> str:
    n_sentences = int(rng.integers(2, 7))
    picks = rng.choice(len(_SENTENCES), size=n_sentences, replace=False)
    sentences = [_SENTENCES[int(i)].format(**words) for i in picks]
    half = max(1, n_sentences // 2)
    parts = [f"<p>{' '.join(sentences[:half])}</p>"]
    if with_code:
        code = str(rng.choice(topic.code))
        escaped = code.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        parts.append(f"<pre><code>{escaped}\n</code></pre>")
    if rng.random() < 0.2:
        parts.append(f"<ul><li>{words['tag']} version {int(rng.integers(1, 20))}</li>"
                     f"<li>{words['tag2']} latest</li></ul>")
    if sentences[half:]:
        parts.append(f"<p>{' '.join(sentences[half:])}</p>")
    return "\n\n".join(parts) + "\n"


def _score(rng: np.random.Generator, quality: float) -> int:
    """Heavy-tailed scores rising with the latent ``quality``: down-votes for the weakest, a
    log-normal body, and a Pareto tail of popular questions for the best."""
    draw = rng.random()
    if draw < 0.12 / (1 + np.exp(2.0 * quality)) * 2:
        return -min(20, int(rng.geometric(0.45)))
    if draw < 1 - 0.03 / (1 + np.exp(-2.0 * (quality - 1))):
        return int(np.floor(np.exp(rng.normal(0.1 + 1.1 * quality, 0.8))))
    return int(rng.pareto(0.9) * 60) + 20


def _answer_delay_seconds(rng: np.random.Generator) -> float:
    mode = rng.choice(3, p=[0.5, 0.32, 0.18])
    median_seconds = (900.0, 5 * 3600.0, 4 * 86_400.0)[int(mode)]
    return max(30.0, float(rng.lognormal(np.log(median_seconds), 0.7)))


def _write(out_dir: Path, per_day: dict[date, list[dict]], answers: dict[date, list[dict]],
           seed: int, n_questions: int, n_tags: int | None) -> dict[str, object]:
    (out_dir / "questions").mkdir(parents=True, exist_ok=True)
    (out_dir / "answers").mkdir(parents=True, exist_ok=True)
    for day, items in per_day.items():
        _dump(out_dir / "questions" / f"{day.isoformat()}.json", {"items": items})
        _dump(out_dir / "answers" / f"{day.isoformat()}.json", {"items": answers[day]})
    days = sorted(per_day)
    manifest: dict[str, object] = {
        "site": SITE,
        "generator": "so_assets.stackexchange.sample_generator",
        "seed": seed,
        "questions": n_questions,
        "items_served": sum(len(v) for v in per_day.values()),
        "accepted_answers": sum(len(v) for v in answers.values()),
        "first_day": days[0].isoformat(),
        "last_day": days[-1].isoformat(),
        "days": len(days),
    }
    if n_tags:
        manifest["tag_universe"] = n_tags
        manifest["distinct_tags"] = len({t for items in per_day.values() for q in items
                                         for t in q["tags"]})
    _dump(out_dir / "manifest.json", manifest)
    return manifest


def _dump(path: Path, payload: object) -> None:
    path.write_text(json.dumps(payload, ensure_ascii=False, separators=(",", ":")) + "\n")
