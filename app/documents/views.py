from app.documents import bp  # noqa: F401
