"""Any files (images, PDFs, anything): one item per file.

A single file or a directory walked recursively in sorted order. Hidden files
and folders (names starting with ``.``) are skipped; symbolic links are
followed only when they point inside the directory (a link out of it is a
Rejection), and linked folders are not descended into (no loops). A posts file
inside the folder (JSON Lines ``*.jsonl``/``*.ndjson`` or ``*.csv``) is read as
posts, by the connector that reads it when it is named directly.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from warding.ingest._common import (
    Reason,
    check_image,
    content_id,
    is_raster_image,
    read_limited,
    reject,
    sniff_mime,
)
from warding.ingest.base import Connector, Limits, MediaBlob, RawItem, Read


def _posts_connectors() -> list[Connector]:
    from warding.ingest.posts import CSVPostsConnector, JSONLPostsConnector

    return [JSONLPostsConnector(), CSVPostsConnector()]


class MediaFileConnector(Connector):
    """Each file is an item (kind ``image`` for pictures, ``file`` otherwise)."""

    name: ClassVar[str] = "files"
    description: ClassVar[str] = (
        "Any files, given one by one or as a folder walked recursively: each file is one item "
        "identified by its SHA-256 (images are checked for corruption and decompression bombs)."
    )

    def __init__(self) -> None:
        self._posts: list[Connector] | None = None

    def can_read(self, path: Path) -> bool:
        """Any existing file or directory: this is the fallback connector."""
        return path.exists()

    def _posts_reader(self, path: Path) -> Connector | None:
        """The connector for a posts file found in a folder (None: an ordinary file)."""
        if self._posts is None:
            self._posts = _posts_connectors()
        return next((c for c in self._posts if c.can_read(path)), None)

    def read(self, path: Path, source: str, limits: Limits) -> Iterator[Read]:
        if not path.exists():
            yield reject(str(path), "no such file or directory")
            return
        if path.is_dir():
            yield from self._walk(path, path.resolve(), path, source, limits)
        else:
            yield self._read_file(path, path.name, source, limits)

    def _walk(
        self, folder: Path, root_real: Path, root: Path, source: str, limits: Limits
    ) -> Iterator[Read]:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            yield reject(str(folder), f"cannot list folder: {exc.strerror or exc}")
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            entry_path = Path(entry.path)
            rel = entry_path.relative_to(root).as_posix()
            if entry.is_symlink():
                try:
                    target = entry_path.resolve(strict=True)
                except (OSError, RuntimeError):
                    yield reject(str(entry_path), "broken symbolic link")
                    continue
                if not target.is_relative_to(root_real):
                    yield reject(str(entry_path), "symbolic link points outside the input folder")
                    continue
                if target.is_dir():
                    continue  # its contents are read where they really are
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if is_dir:
                yield from self._walk(entry_path, root_real, root, source, limits)
                continue
            reader = self._posts_reader(entry_path)
            if reader is not None:
                yield from reader.read(entry_path, source, limits)
            else:
                yield self._read_file(entry_path, rel, source, limits)

    def _read_file(self, file: Path, rel: str, source: str, limits: Limits) -> Read:
        ref = str(file)
        try:
            st = file.stat()
        except OSError as exc:
            return reject(ref, f"cannot read file: {exc.strerror or exc}")
        if not stat.S_ISREG(st.st_mode):
            return reject(ref, "not a regular file")
        data = read_limited(file, limits.max_file_bytes)
        if isinstance(data, Reason):
            return reject(ref, data)
        mime = sniff_mime(data, file.name)
        kind = "video" if mime.startswith("video/") else "file"
        if is_raster_image(mime):
            problem = check_image(data, file.name, limits)
            if problem is not None:
                return reject(ref, problem)
            kind = "image"
        return RawItem(
            source=source,
            external_id=content_id(data),
            input_ref=ref,
            kind=kind,
            title=file.name,
            media=[MediaBlob(name=file.name, data=data, mime=mime)],
            metadata={"path": rel, "size": len(data)},
        )
