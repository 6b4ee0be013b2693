"""Type stub of the compiled kernel (``_kernel.c``); see ``kernel.py`` for the arguments."""

from typing import Any

def build_chunk(codes: Any, n: int, words: int, off: int, bits: int, offsets: Any,
                ids: Any, /) -> None: ...
def mih_query(codes: Any, n: int, words: int, alive: Any, coff: Any, cbits: Any, t: Any,
              tab_off: Any, offsets: Any, ids: Any, masks: Any, mstart: Any, mcount: Any,
              queries: Any, nq: int, r: int, /) -> tuple[bytes, bytes, bytes]: ...
def scan(codes: Any, n: int, words: int, alive: Any, queries: Any, nq: int, r: int,
         /) -> tuple[bytes, bytes, bytes]: ...
