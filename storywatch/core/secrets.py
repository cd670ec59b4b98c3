"""Keep credentials out of what storywatch prints, logs and hands to Prefect."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

HIDDEN = "***"


def redact_url(url: str) -> str:
    """The URL with any password replaced by ``***`` (user, host and path kept), for printing."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        user = parts.username or ""
        host = parts.hostname or ""
        if ":" in host:  # an IPv6 literal keeps its brackets
            host = f"[{host}]"
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:  # a malformed port or netloc: hide everything before the host
        head, _, rest = url.partition("://")
        return f"{head}://{HIDDEN}@{rest.rpartition('@')[2]}" if "@" in rest else url
    return urlunsplit(parts._replace(netloc=f"{user}:{HIDDEN}@{host}{port}"))
