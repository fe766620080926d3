"""Whole sections of a memory-mapped .npy read with plain file reads.

Slicing a ``np.memmap`` maps the pages it touches into this process, and they stay resident: streaming
every section of a 1 GB label volume once (the label scan) or over several epochs leaves ~1 GB in RSS.
``os.pread`` copies one section into a fresh buffer instead; the pages go to the shared page cache,
which the kernel may drop, and the process keeps only what it still holds.
"""

from __future__ import annotations

import os

import numpy as np


class SectionReads:
    """``section(i)`` = a copy of ``array[i]`` read by ``os.pread`` from the file behind a C-ordered memmap."""

    def __init__(self, array: np.memmap):
        self.path = array.filename
        self.offset = int(array.offset)
        self.dtype = array.dtype
        self.item_shape = tuple(int(v) for v in array.shape[1:])
        self.item_bytes = int(np.prod(self.item_shape, dtype=np.int64)) * array.dtype.itemsize
        self._fd, self._owner = None, None

    @staticmethod
    def applies(array) -> bool:
        """True for a whole C-ordered .npy memmap (a view of part of one keeps the memmap's reads)."""
        if not (isinstance(array, np.memmap) and getattr(array, "filename", None) and array.flags.c_contiguous
                and array.ndim >= 2):
            return False
        try:
            return os.path.getsize(array.filename) == int(array.offset) + array.nbytes
        except OSError:
            return False

    def _descriptor(self) -> int:
        if self._fd is None or self._owner != os.getpid():  # DataLoader workers and DDP ranks open their own
            self._fd, self._owner = os.open(self.path, os.O_RDONLY), os.getpid()
        return self._fd

    def section(self, index: int) -> np.ndarray:
        buffer = bytearray(self.item_bytes)
        start = self.offset + index * self.item_bytes
        view, done = memoryview(buffer), 0
        while done < self.item_bytes:  # pread may return fewer bytes than asked
            got = os.preadv(self._descriptor(), [view[done:]], start + done)
            if got <= 0:
                raise OSError(f"{self.path}: file ends inside section {index}")
            done += got
        return np.frombuffer(buffer, dtype=self.dtype).reshape(self.item_shape)

    def close(self) -> None:
        if self._fd is not None and self._owner == os.getpid():
            os.close(self._fd)
        self._fd = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_fd": None, "_owner": None}
