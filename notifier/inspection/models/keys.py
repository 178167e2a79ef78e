"""Object keys as model files name them: suffixes under a compression suffix, stems,
prefixes (the "directory" a model and its sidecars share)."""

from __future__ import annotations

from typing import Final

COMPRESSION_SUFFIXES: Final = (".gz", ".z", ".bz2", ".xz", ".lzma")


def file_name(key: str) -> str:
    return key.rsplit("/", 1)[-1]


def prefix_of(key: str) -> str:
    """``a/b/model.pkl`` -> ``a/b/``; ``model.pkl`` -> ``""``."""
    head, sep, _ = key.rpartition("/")
    return head + sep


def suffix_of(key: str) -> str:
    """The last suffix, lower-cased: ``Model.PKL`` -> ``.pkl``; ``""`` when none."""
    name = file_name(key)
    stem, dot, suffix = name.rpartition(".")
    return f".{suffix.lower()}" if dot and stem else ""


def base_suffix(key: str) -> str:
    """The suffix under a compression suffix: ``m.joblib.gz`` -> ``.joblib``."""
    suffix = suffix_of(key)
    if suffix in COMPRESSION_SUFFIXES:
        return suffix_of(key[: -len(suffix)])
    return suffix


def stem_of(key: str) -> str:
    """The file name without its last suffix (and a compression suffix under it):
    ``a/rf.v2.joblib.gz`` -> ``rf.v2``."""
    name = file_name(key)
    for _ in range(2):
        suffix = suffix_of(name)
        if not suffix:
            break
        name = name[: -len(suffix)]
        if suffix not in COMPRESSION_SUFFIXES:
            break
    return name
