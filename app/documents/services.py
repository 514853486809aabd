"""Write and read documents; the only code that creates Document rows."""

import hashlib

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.documents.models import Document
from app.extensions import db


class ImmutableDocumentError(RuntimeError):
    pass


def store_document(content: bytes, media_type: str) -> Document:
    """Add `content` to the store (once: same bytes, same row) and return it.

    Flushes, never commits: the record that refers to the document commits
    both in one transaction.
    """
    sha = hashlib.sha256(content).hexdigest()
    document = db.session.get(Document, sha)
    if document is None:
        document = Document(sha256=sha, media_type=media_type, size=len(content), content=content)
        db.session.add(document)
        db.session.flush()
    return document


def get_document(sha256: str) -> Document | None:
    return db.session.get(Document, sha256)


@event.listens_for(Session, "before_flush")
def _refuse_document_changes(session: Session, flush_context, instances) -> None:
    for obj in session.dirty:
        if isinstance(obj, Document) and session.is_modified(obj, include_collections=False):
            raise ImmutableDocumentError("a stored document never changes")
    for obj in session.deleted:
        if isinstance(obj, Document):
            raise ImmutableDocumentError("a stored document is never deleted")
