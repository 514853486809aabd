from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, LargeBinary, String, func
from sqlalchemy.orm import Mapped, deferred, mapped_column

from app.extensions import db


class Document(db.Model):
    """A file kept in the database, addressed by the SHA-256 of its bytes.

    Written once, never changed nor deleted (see documents.services): a record
    that points to it commits with it, and a backup of the database holds it.
    """

    __tablename__ = "document"
    __table_args__ = (
        CheckConstraint("length(sha256) = 64", name="sha256_length"),
        CheckConstraint("size >= 0", name="size"),
    )

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp()
    )
