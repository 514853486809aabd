"""What the property tests share: strategies of hostile input, a fingerprint
of the whole database, and the checks every answer to a form must pass.

An answer is *refused* when it is a 4xx, a form shown again (200), or a
redirect with an error or warning message; a refused post must leave the
database exactly as it was and say why in French. Never a 500 (in tests an
exception propagates and fails the example)."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from sqlalchemy import text

from app.extensions import db

# Modest example counts: the whole folder must stay near a minute.
FORMS = settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.filter_too_much,
    ],
)

# -- hostile input ------------------------------------------------------------------------------

CONTROLS = [
    "\x00",
    "\x01",
    "\x07",
    "\x08",
    "\x0b",
    "\x0c",
    "\x0e",
    "\x1b",
    "\x1f",
    "\x7f",
    "\x85",
    "\u2028",
    "\u2029",
    "\u200b",
    "\u202e",
    "\ufeff",
    "\r",
    "\n",
    "\t",
    "\r\n",
]
FORMULAS = [
    "=cmd|' /C calc'!A0",
    "=1+1",
    "+33 6 12 34 56 78",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    " =1+1",
    '=HYPERLINK("http://evil.example";"clic")',
    "=IMPORTXML(A1;B1)",
    "\x00=1+1",
]
NUMBERS = [
    "-1",
    "0",
    "-0",
    "1e309",
    "1E5",
    "99999999999999",
    "99999999999999999999",
    "-99999999999999.99",
    "NaN",
    "nan",
    "Infinity",
    "-inf",
    "∞",
    "1 234,56",
    "1\u00a0234,56",
    "1,234.56",
    "1.2.3",
    "0x1F",
    "١٢٣",
    "½",
    "²",
    "1e-7",
    "0,001",
    "12,",
    ",5",
    "+5",
    "5-",
    "9" * 40,
    "1_000",
    "  7  ",
    "708,00 €",
    "20 %",
]
DURATIONS = [
    "25h",
    "-30",
    "∞",
    "0",
    "0h",
    "24h01",
    "1441",
    "99:99",
    "1h60",
    "24:00",
    "1,5",
    "90",
    "1h30",
    "999999999",
    "1.5h",
    "h",
    ":",
    "1h-30",
    "١h",
    "1h30min",
]
DATES = [
    "0001-01-01",
    "0001-01",
    "9999-12-31",
    "9999-12",
    "1900-02-29",
    "2026-02-30",
    "2026-13-01",
    "2026-00",
    "20260101",
    "2026-1-1",
    "01/02/2026",
    "-2026-01-01",
    "2026-01-01T00:00",
    "２０２６-01-01",
    "1999-12",
    "2101-01",
]
SPECIALS = CONTROLS + FORMULAS + NUMBERS + DURATIONS + DATES


def _huge(piece: str, size: int) -> str:
    return (piece * (size // len(piece) + 1))[:size]


def huge_text() -> st.SearchStrategy[str]:
    """Strings of a few hundred to 100 000 characters."""
    return st.builds(
        _huge,
        st.text(min_size=1, max_size=3) | st.sampled_from(["=cmd|", "é", "\x01", "9"]),
        st.sampled_from([121, 301, 2001, 5001, 20_001, 100_000]),
    )


def hostile_text() -> st.SearchStrategy[str]:
    """Anything a person or a script might post in a text field."""
    return st.one_of(
        st.sampled_from(SPECIALS),
        st.text(max_size=30),
        st.builds(
            lambda a, c, b: a + c + b, st.text(max_size=8), st.sampled_from(CONTROLS), st.text(max_size=8)
        ),
        huge_text(),
    )


def maybe(valid: str | Iterable[str]) -> st.SearchStrategy[str]:
    """A valid value or a hostile one (so that some examples are accepted)."""
    values = [valid] if isinstance(valid, str) else list(valid)
    return st.sampled_from(values) | hostile_text()


def posted(
    valid: dict[str, str], special: dict[str, st.SearchStrategy[str]] | None = None, *, changes: int = 3
) -> st.SearchStrategy[dict[str, str]]:
    """A valid form with up to `changes` of its fields replaced by hostile
    values (`special` gives a field its own strategy) or left out."""
    special = special or {}
    keys = sorted(set(valid) | set(special))

    def replace(names: list[str]) -> st.SearchStrategy[dict[str, str]]:
        return st.fixed_dictionaries(
            {name: special.get(name, hostile_text()) | st.just(None) for name in names}
        ).map(lambda new: {k: v for k, v in {**valid, **new}.items() if v is not None})

    return st.lists(st.sampled_from(keys), unique=True, max_size=changes).flatmap(replace)


def other_ids(*ids: int) -> st.SearchStrategy[str]:
    """Ids of objects of another client, and ids no row has, as posted."""
    return st.sampled_from([str(i) for i in ids] + ["0", "-1", "2147483648", "99999999999999999999", "1.5"])


# -- the database, before and after ----------------------------------------------------------------

_fingerprint_sql: dict[tuple[str, ...], str] = {}


def fingerprint(exclude: Iterable[str] = ()) -> dict[str, str]:
    """A digest of every table's rows, in one query (counts on SQLite)."""
    exclude = tuple(sorted(exclude))
    sql = _fingerprint_sql.get(exclude)
    if sql is None:
        engine = db.engines[None]
        postgres = engine.dialect.name == "postgresql"
        quote = engine.dialect.identifier_preparer.quote
        parts = []
        for table in db.metadata.sorted_tables:
            if table.name in exclude:
                continue
            name = quote(table.name)
            value = (
                # Table names from our own metadata, quoted: nothing posted gets in.
                f"(SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {name} t)"  # noqa: S608
                if postgres
                else f"(SELECT CAST(count(*) AS TEXT) FROM {name})"  # noqa: S608
            )
            parts.append(f"SELECT '{table.name}' AS name, {value} AS digest")
        sql = _fingerprint_sql[exclude] = " UNION ALL ".join(parts)
    return dict(db.session.execute(text(sql)).all())


@contextmanager
def rolled_back() -> Iterator[None]:
    """A savepoint around one example: what it flushed, and what the
    requests it made wrote, is gone at its end (flush, never commit, inside)."""
    savepoint = db.session.begin_nested()
    try:
        yield
    finally:
        if savepoint.is_active:
            savepoint.rollback()
        db.session.expire_all()


def changed_tables(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(name for name in before if before[name] != after.get(name))


# -- one answer -----------------------------------------------------------------------------------

OK_STATUSES = {200, 302, 303, 308, 400, 403, 404, 405, 413}
# Answers that refuse by their status alone (308: werkzeug's canonical URL).
REFUSING = {308, 400, 403, 404, 405, 413}
_ERROR_BLOCK = re.compile(
    r'<(p|div|span|li)\s[^>]*class="(?:[^"]*\s)?(?:error|flash-error|flash-warning|cell-error)(?:\s[^"]*)?"'
    r"[^>]*>(.*?)</\1>",
    re.S,
)
# Banners that say "something is wrong" without saying what: never enough alone.
GENERIC = (
    "Certains champs sont à corriger",
    "Rien n'a été enregistré",
    "La semaine n'a pas été enregistrée",
)
_TAGS = re.compile(r"<[^>]+>")
# WTForms' and Python's own (English) words: a message made of them is not for our users.
ENGLISH = re.compile(
    r"\b(Invalid|invalid|Not a valid|not a valid|This field|Field must|Number must|could not|"
    r"literal|is required|must be|Choice|coerce|Traceback|Error)\b"
)


def _text(fragment: str) -> str:
    return " ".join(html.unescape(_TAGS.sub(" ", fragment)).split())


@dataclass
class Answer:
    status: int
    body: str
    location: str
    flashes: list[tuple[str, str]] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        """The messages that explain a refusal: field errors, error flashes."""
        shown = [_text(m) for _tag, m in _ERROR_BLOCK.findall(self.body)]
        flashed = [str(message) for category, message in self.flashes if category in ("error", "warning")]
        return [m for m in shown + flashed if m]

    @property
    def refused(self) -> bool:
        if self.status in REFUSING or self.status == 200:
            return True
        return any(category in ("error", "warning") for category, _m in self.flashes)

    @property
    def everything(self) -> str:
        return "\n".join([self.body, self.location, *(str(m) for _c, m in self.flashes)])


def send(client, url: str, data=None, *, method: str = "post", **kwargs) -> Answer:
    """Post (or get) and read the answer, its flashed messages included
    (taken out of the session so that the next example starts clean)."""
    response = client.open(url, method=method.upper(), data=data, **kwargs)
    assert response.status_code in OK_STATUSES, (response.status_code, url)
    with client.session_transaction() as session:
        flashes = session.pop("_flashes", [])
    return Answer(
        status=response.status_code,
        body=response.get_data(as_text=True),
        location=response.headers.get("Location", ""),
        flashes=[(str(c), str(m)) for c, m in flashes],
    )


def check_refusal(answer: Answer, before: dict[str, str], after: dict[str, str]) -> None:
    """A refused post changed nothing and said why, in French."""
    assert changed_tables(before, after) == [], f"refused ({answer.status}) but changed the database"
    if answer.status in (308, 403, 404, 405, 413):
        return
    if answer.status == 400:
        assert "Requête invalide" in answer.body or answer.errors, answer.body[:500]
        return
    messages = answer.errors
    assert [m for m in messages if not m.startswith(GENERIC)], f"refused ({answer.status}) without a message"
    for message in messages:
        assert not ENGLISH.search(message), message


def check_no_leak(answer: Answer, secrets: Iterable[str]) -> None:
    everything = answer.everything
    for secret in secrets:
        assert secret not in everything, f"leaked: {secret!r}"


class _Failures(logging.Handler):
    """Errors logged by jobs run in-process after a request (a mail that
    could not be built, a PDF that failed): the request said 'done', the
    work was not."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


JOB_FAILURES = _Failures()
JOBS_LOG = logging.getLogger("app.jobs")
JOBS_LOG.addHandler(JOB_FAILURES)


def attempt(
    client,
    url: str,
    data=None,
    *,
    exclude: Iterable[str] = (),
    secrets: Iterable[str] = (),
    follow: bool = True,
    **kwargs,
):
    """Send, then check what every answer owes: a refusal changed nothing and
    said why in French; nothing of another client shows; what was accepted
    leads to a page that shows (`follow`). Returns the answer and the tables
    that changed."""
    before = fingerprint(exclude)
    JOBS_LOG.disabled = False  # the migrations' logging setup turns existing loggers off
    JOB_FAILURES.records.clear()
    answer = send(client, url, data, **kwargs)
    after = fingerprint(exclude)
    with suppress(InvalidArgument):  # outside Hypothesis: no statistics
        event("refused" if answer.refused else "accepted")
    failures = [
        r.getMessage() + "\n" + (logging.Formatter().formatException(r.exc_info) if r.exc_info else "")
        for r in JOB_FAILURES.records
    ]
    assert not failures, failures[0]
    if answer.refused:
        check_refusal(answer, before, after)
    check_no_leak(answer, secrets)
    if follow and not answer.refused and answer.location.startswith("/"):
        shown = send(client, answer.location, method="get", follow_redirects=True)
        assert shown.status == 200, (shown.status, answer.location)
        check_no_leak(shown, secrets)
    return answer, changed_tables(before, after)
