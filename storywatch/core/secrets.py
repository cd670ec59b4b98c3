"""Keep credentials out of what storywatch prints, logs and hands to Prefect."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from storywatch.core.errors import ConfigError

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


def split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """(the URL without ``user:password@``, user, password): credentials never stay in a URL."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url, None, None
    if "@" not in parts.netloc:
        return url.strip(), None, None
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    clean = urlunsplit(parts._replace(netloc=hostport))
    return clean, unquote(user) or None, unquote(password) if password else None


class SecretBox:
    """Encrypts secrets storywatch must keep (a private feed's password) with a key kept outside the database.

    The key is ``STORYWATCH_SECRET_KEY`` when set (a Fernet key: 32 url-safe base64 bytes), else
    the file ``secret.key`` in the data directory, made on first use and readable by its owner
    only. Every machine that polls such a feed needs the same key.
    """

    def __init__(self, key: str | None, key_file: Path) -> None:
        self._key = key
        self.key_file = key_file

    def _fernet(self, *, create: bool) -> Any:
        from cryptography.fernet import Fernet

        key = self._key
        if key is None and self.key_file.exists():
            key = self.key_file.read_text(encoding="ascii").strip()
        if key is None:
            if not create:
                raise ConfigError(
                    f"no key to read stored feed passwords: set STORYWATCH_SECRET_KEY, or restore {self.key_file}"
                )
            key = Fernet.generate_key().decode("ascii")
            self.key_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(key + "\n")
        try:
            return Fernet(key.encode("ascii"))
        except (ValueError, TypeError) as exc:
            raise ConfigError(
                "STORYWATCH_SECRET_KEY is not a valid key (32 url-safe base64 bytes); make one with "
                "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`"
            ) from exc

    def seal(self, secret: str) -> str:
        """The secret, encrypted, for storing."""
        token: bytes = self._fernet(create=True).encrypt(secret.encode("utf-8"))
        return token.decode("ascii")

    def open(self, sealed: str) -> str:
        """A stored secret, decrypted; ConfigError when the key is missing or not the one it was sealed with."""
        from cryptography.fernet import InvalidToken

        try:
            plain: bytes = self._fernet(create=False).decrypt(sealed.encode("ascii"))
        except InvalidToken as exc:
            raise ConfigError(
                "a stored feed password cannot be read with this key: set STORYWATCH_SECRET_KEY to the key "
                "it was stored with, or add the feed's credentials again"
            ) from exc
        return plain.decode("utf-8")
