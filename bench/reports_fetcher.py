"""The bare renders' resources: the same static files as the app's fetcher,
without the app (a plain WeasyPrint URLFetcher reading app/static)."""

from pathlib import Path

from weasyprint.urls import URLFetcher, URLFetcherResponse

STATIC = Path(__file__).resolve().parents[1] / "app" / "static"


class BareFetcher(URLFetcher):
    def fetch(self, url, headers=None):
        if url.startswith("relais-static:"):
            path = STATIC / url[len("relais-static:") :].lstrip("/")
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": "text/css; charset=utf-8"})
        raise ValueError(f"not served: {url}")


def bare_fetcher() -> BareFetcher:
    return BareFetcher(allowed_protocols=set(), allow_redirects=False)
