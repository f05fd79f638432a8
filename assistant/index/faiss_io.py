"""Reading ``index.faiss`` safely: the header's claimed size is checked against the file before FAISS allocates.

``faiss.read_index`` trusts the sizes written in the file: a 47 KB file whose
header claims a 4 GiB vector made it allocate gigabytes before failing. The
checksum in the manifest does not help (whoever crafted the file can recompute
it), so the header is parsed here first and a file whose claims cannot fit in
its own bytes is refused as corrupt, naming the file, before anything is read.

Flat indexes (what the build writes) are checked exactly. Other index types
(HNSW, IVF, ... if ever written) are let through to FAISS when their common
header is plausible, with ``MemoryError`` turned into the same message: add an
exact size rule to :data:`SIZE_RULES` when a new type is written.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import faiss

from assistant.errors import IndexCorrupt

# The header every FAISS index writes after its fourcc (faiss/impl/index_write.cpp, write_index_header):
# d (int32), ntotal (int64), two dummy int64, is_trained (uint8), metric_type (int32)
# and, for metric types above 1, metric_arg (float32).
_COMMON = struct.Struct("<4siqqqBi")
_METRIC_ARG = struct.Struct("<f")
_COUNT = struct.Struct("<Q")
MAX_DIMENSION = 1 << 16  # no sentence-embedding model comes close; a larger d is a crafted header


@dataclass(frozen=True)
class Header:
    """The part of an index file's header that says how much data follows."""

    fourcc: bytes
    d: int
    ntotal: int
    metric_type: int
    end: int  # offset of the first byte after the common header


SizeRule = Callable[[Header, bytes], int]


def _flat_size(header: Header, head: bytes) -> int:
    """IndexFlat*: a float count that must equal d × ntotal, then exactly that many float32 values."""
    if len(head) < header.end + _COUNT.size:
        raise _Refused("it ends inside its header")
    (count,) = _COUNT.unpack_from(head, header.end)
    if count != header.d * header.ntotal:
        raise _Refused(f"its vector block claims {count:,} values for {header.ntotal:,} vectors of dimension {header.d}")
    return header.end + _COUNT.size + 4 * count


SIZE_RULES: dict[bytes, SizeRule] = {b"IxFI": _flat_size, b"IxF2": _flat_size, b"IxFl": _flat_size}


class _Refused(Exception):
    """Why a header cannot describe the file it heads (internal; becomes IndexCorrupt)."""


def parse_header(head: bytes) -> Header:
    """The common header of an index file, or :class:`_Refused` when it cannot be one."""
    if len(head) < _COMMON.size:
        raise _Refused("it is too short to be a FAISS index")
    fourcc, d, ntotal, _, _, _, metric_type = _COMMON.unpack_from(head)
    if not 0 < d <= MAX_DIMENSION:
        raise _Refused(f"its header claims dimension {d}")
    if ntotal < 0:
        raise _Refused(f"its header claims {ntotal} vectors")
    end = _COMMON.size + (_METRIC_ARG.size if metric_type > 1 else 0)
    return Header(fourcc, d, ntotal, metric_type, end)


def check_size(path: Path) -> None:
    """Refuse, before FAISS reads it, a file whose header claims more (or less) data than it holds."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(256)
    except OSError as exc:
        raise IndexCorrupt(f"{path} cannot be read ({exc.strerror or type(exc).__name__}); rebuild the index.") from exc
    try:
        header = parse_header(head)
        rule = SIZE_RULES.get(header.fourcc)
        claimed = rule(header, head) if rule else None
        if claimed is not None and claimed != size:
            raise _Refused(f"its header describes {claimed:,} bytes but the file holds {size:,}")
        if claimed is None and header.ntotal > size * 8:  # every index type spends at least a bit per vector
            raise _Refused(f"its header claims {header.ntotal:,} vectors, more than {size:,} bytes can hold")
    except _Refused as exc:
        raise IndexCorrupt(f"{path} is not a valid FAISS index ({exc}); rebuild the index.") from None


def read_index(path: Path) -> faiss.Index:
    """``faiss.read_index`` after :func:`check_size`; FAISS's own failures (and running out of memory) are corrupt."""
    check_size(path)
    try:
        return faiss.read_index(str(path))
    except (RuntimeError, MemoryError) as exc:
        detail = "it needs more memory than is available" if isinstance(exc, MemoryError) else _first_line(exc)
        raise IndexCorrupt(f"{path} cannot be read by FAISS ({detail}); rebuild the index.") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
