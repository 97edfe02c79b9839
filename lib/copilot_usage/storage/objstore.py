"""A data dir that is a local folder or an object-store URL (``s3://bucket/prefix``, ``gs://…``, ``az://…`` /
``abfss://…``): how its parts are named, and the options the Delta writer and readers get.

Credentials are never stored or passed here: the object-store clients find them the way each cloud's own tools
do (environment variables, profiles, workload identity). The only options set are the ones the environment
cannot express for the Rust ``object_store`` crate: plain HTTP for an S3-compatible endpoint on loopback.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import StoreError

SCHEMES = ("s3://", "s3a://", "gs://", "gcs://", "az://", "azure://", "abfs://", "abfss://")


def is_url(data_dir: Path | str) -> bool:
    """Whether ``data_dir`` names an object store rather than a local folder."""
    return isinstance(data_dir, str) and data_dir.lower().startswith(SCHEMES)


def as_data_dir(value: Path | str) -> Path | str:
    """A local path as a :class:`Path`, an object-store URL kept as text (``Path`` would fold its ``//``)."""
    return value.rstrip("/") if isinstance(value, str) and is_url(value) else Path(value)


def join(data_dir: Path | str, *parts: str) -> str:
    """``data_dir/part/…`` as text: a URL joined with ``/``, a local path by the operating system's rules."""
    if is_url(data_dir):
        return "/".join([str(data_dir).rstrip("/"), *parts])
    return str(Path(data_dir).joinpath(*parts))


def storage_options(data_dir: Path | str) -> dict[str, str] | None:
    """Options for deltalake / ``pl.scan_delta`` on ``data_dir``; None for a local folder.

    S3: commits are made safe between writers with S3's conditional writes (If-None-Match), which AWS and most
    S3-compatible stores support (https://delta-io.github.io/delta-rs/usage/writing/writing-to-s3-with-locking-provider/);
    ``AWS_ENDPOINT_URL`` (the AWS tools' own variable) points at an S3-compatible store."""
    if not is_url(data_dir):
        return None
    opts: dict[str, str] = {}
    if str(data_dir).lower().startswith(("s3://", "s3a://")):
        opts["conditional_put"] = "etag"
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        if endpoint:
            opts["AWS_ENDPOINT_URL"] = endpoint
            if endpoint.startswith("http://"):
                opts["AWS_ALLOW_HTTP"] = "true"
    return opts


@functools.cache
def _bucket(scheme: str, bucket: str) -> Any:
    """One obstore client per bucket (container), made when first used; credentials from the environment."""
    import obstore.store

    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or ""
    options = {"allow_http": True} if scheme.startswith("s3") and endpoint.startswith("http://") else None
    return obstore.store.from_url(f"{scheme}//{bucket}", client_options=options)  # type: ignore[arg-type]


def _expected() -> tuple[tuple[type[Exception], ...], tuple[type[Exception], ...]]:
    """The answers callers handle: an object already there (or changed since read), and no such object (obstore
    raises Python's FileNotFoundError for it)."""
    from obstore.exceptions import AlreadyExistsError, NotFoundError, PreconditionError

    return (AlreadyExistsError, PreconditionError), (NotFoundError, FileNotFoundError)


@contextmanager
def _naming(where: str) -> Iterator[None]:
    """An object-store failure (no permission, unreachable, bad credentials) as one :class:`StoreError` naming the
    object; the store's own message is several lines of the Rust error chain."""
    from obstore.exceptions import BaseError

    exists, missing = _expected()
    try:
        yield
    except (*exists, *missing):
        raise
    except BaseError as exc:
        first = next((line for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        msg = f"{where}: {type(exc).__name__.removesuffix('Error')}: {first}"
        raise StoreError(msg) from exc


class ObjectPath(PurePosixPath):
    """An object in a bucket, spelt like a path (``s3:/bucket/raw/…``: the parts, name and suffix the raw store's
    readers use) with the few file operations the raw store needs. ``str()`` is its URL. It stands in for the
    ``Path`` of a local raw store (hence the ``type: ignore`` where one is returned as such)."""

    def __str__(self) -> str:
        scheme, bucket, *rest = self.parts
        return "/".join([f"{scheme}/", bucket, *rest])

    @property
    def key(self) -> str:
        return "/".join(self.parts[2:])

    @property
    def _store(self) -> Any:
        return _bucket(self.parts[0], self.parts[1])

    def read_bytes(self) -> bytes:
        import obstore

        with _naming(str(self)):
            return bytes(obstore.get(self._store, self.key).bytes())

    def read_text(self) -> str:
        return self.read_bytes().decode()

    def exists(self) -> bool:
        import obstore

        try:
            with _naming(str(self)):
                obstore.head(self._store, self.key)
        except _expected()[1]:
            return False
        return True

    def write_bytes(self, data: bytes | Path, *, create: bool = False) -> bool:
        """Write the object (``data``: bytes or a local file streamed up). ``create``: only if no object has the
        name yet (a conditional put, If-None-Match), else False and nothing is replaced."""
        import obstore

        try:
            with _naming(str(self)):
                obstore.put(self._store, self.key, data, mode="create" if create else "overwrite")
        except _expected()[0]:
            return False
        return True

    def unlink(self, missing_ok: bool = False) -> None:
        import obstore

        with _naming(str(self)):
            obstore.delete(self._store, self.key)

    def listing(self) -> list[str]:
        """The names of the objects directly under this prefix (not in sub-prefixes)."""
        import obstore

        with _naming(str(self)):
            found = obstore.list_with_delimiter(self._store, self.key + "/")
        return [o["path"].rsplit("/", 1)[-1] for o in found["objects"]]

    def tree(self) -> list[str]:
        """Every object under this prefix, as paths relative to it (one paged listing, not one per folder)."""
        import obstore

        prefix = self.key + "/"
        with _naming(str(self)):
            return [o["path"][len(prefix) :] for batch in obstore.list(self._store, prefix) for o in batch]

    def folders(self) -> list[str]:
        """The names of the sub-prefixes directly under this prefix."""
        import obstore

        with _naming(str(self)):
            found = obstore.list_with_delimiter(self._store, self.key + "/")
        return [p.rstrip("/").rsplit("/", 1)[-1] for p in found["common_prefixes"]]


def path(data_dir: Path | str, *parts: str) -> Path | ObjectPath:
    """``data_dir/part/…``: a local :class:`Path`, or an :class:`ObjectPath` on an object store."""
    if is_url(data_dir):
        scheme, _, rest = str(data_dir).partition("//")
        return ObjectPath(scheme, *[p for p in rest.split("/") if p], *parts)
    return Path(data_dir).joinpath(*parts)
