"""Files attached to bills: what QBO accepts, safe names, and the content-addressed store.

QBO takes only some file types and at most 100 MB per upload (API.md §7.2); a file it would
refuse is refused here, when it is attached, with words the admin can act on, not later in a
job. Names are sanitised once, before anything is stored or sent.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
import unicodedata
from pathlib import Path

from core.errors import Rejected

#: API.md §7.2: the file types Intuit's Attachable reference lists, with their MIME types.
TYPES: dict[str, tuple[str, ...]] = {
    "ai": ("application/postscript",),
    "eps": ("application/postscript",),
    "csv": ("text/csv",),
    "doc": ("application/msword",),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",),
    "gif": ("image/gif",),
    "jpeg": ("image/jpeg", "image/jpg"),
    "jpg": ("image/jpeg", "image/jpg"),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet",),
    "pdf": ("application/pdf",),
    "png": ("image/png",),
    "rtf": ("application/rtf", "text/rtf"),
    "tif": ("image/tiff",),
    "tiff": ("image/tiff",),
    "txt": ("text/plain",),
    "xls": ("application/vnd.ms-excel",),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",),
    "xml": ("text/xml", "application/xml"),
}
#: API.md §7.2: 100 MB per upload request (fault 6030); the multipart envelope needs a little.
MAX_BYTES = 100 * 1024 * 1024 - 64 * 1024
MAX_NAME = 100
_UNSAFE = re.compile(r"[^A-Za-z0-9._ ()\-]+")


def sanitise_name(name: str) -> str:
    """A file name safe to store and send: no folders, controls or odd characters, ≤100 chars."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    base = _UNSAFE.sub("_", base).strip(" ._")
    base = re.sub(r"_+", "_", base)
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    ext = ext.lower()[:10]
    stem = stem[: MAX_NAME - len(ext) - 1] or "attachment"
    return f"{stem}.{ext}" if ext else stem


def check_file(file_name: str, content_type: str | None, size: int) -> tuple[str, str]:
    """The sanitised name and the MIME type QBO gets, or `Rejected` saying why not.

    Raises:
        Rejected: QuickBooks does not take this type, or the file is too big (or empty).
    """
    name = sanitise_name(file_name)
    ext = name.rpartition(".")[2].lower() if "." in name else ""
    accepted = ", ".join(sorted(TYPES))
    if ext not in TYPES:
        raise Rejected(
            f"QuickBooks does not accept {('.' + ext) if ext else 'files without a type'} "
            "attachments.",
            fix=f"Save it as one of: {accepted} (a PDF is usually best) and attach it again.",
        )
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype not in TYPES[ext]:
        ctype = TYPES[ext][0]
    if size <= 0:
        raise Rejected("This file is empty.", fix="Attach the file again.")
    if size > MAX_BYTES:
        raise Rejected(
            f"This file is {size / 1024 / 1024:.0f} MB; QuickBooks takes attachments up to 100 MB.",
            fix="Compress it or split it into smaller files, then attach them.",
        )
    return name, ctype


def guess_type(file_name: str) -> str:
    """A MIME type from a file name (for command-line uploads)."""
    return mimetypes.guess_type(file_name)[0] or "application/octet-stream"


class FileStore:
    """Files by content hash under the instance folder (`files/ab/abcdef...`)."""

    def __init__(self, root: Path) -> None:
        """Keep files under `root` (created on first write)."""
        self.root = root

    def put(self, content: bytes) -> tuple[str, str]:
        """Store bytes; returns `(storage_key, sha256)`. Storing the same bytes twice is free."""
        digest = hashlib.sha256(content).hexdigest()
        key = f"{digest[:2]}/{digest}"
        path = self.root / key
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".part")
            tmp.write_bytes(content)
            tmp.replace(path)
        return key, digest

    def get(self, key: str) -> bytes:
        """The bytes stored under `key`."""
        if ".." in key or key.startswith("/"):
            raise ValueError("bad storage key")
        return (self.root / key).read_bytes()


def store_for(instance_path: Path) -> FileStore:
    """The file store of an instance folder."""
    return FileStore(instance_path / "files")
