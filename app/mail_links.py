"""Absolute links for mails: from the request when there is one, else BASE_URL
(jobs and CLI have no request)."""

from flask import current_app, has_request_context, url_for


def external_url(endpoint: str, **values: object) -> str:
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    base = current_app.config["BASE_URL"].rstrip("/")
    with current_app.test_request_context(base_url=base):
        return url_for(endpoint, _external=True, **values)
