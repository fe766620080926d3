"""Read well logs (LAS 1.2/2.0/3.0 through lasio, CSV, Parquet) into one table, one row per depth sample.

Every reader returns a pandas DataFrame and raises ``DataError(message, path)`` for input it cannot
read; anything it repairs (null sentinels, reversed depth, unknown mnemonics) it reports with a
``LogsWarning`` that says exactly what was done.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from ..errors import DataError, GeotuneWarning

WELL = "WELL"  # the well column of tables read from LAS files
DEPTH = "DEPTH"  # the depth column of tables read from LAS files (metres when the file says feet or metres)

# Canonical curve name -> mnemonics that mean it. Users extend it with --aliases FILE.json or extend_aliases().
DEFAULT_ALIASES: dict[str, list[str]] = {
    "DEPTH": ["DEPT", "DEPTH", "MD", "TDEP", "DEP"],
    "GR": ["GR", "GRC", "GRD", "GAM", "GAMM", "GAMMA", "GAMN", "SGR", "CGR", "HGR", "ECGR", "GR_EDTC", "GRGC"],
    "RT": ["RT", "ILD", "RILD", "RDEP", "LLD", "RLA5", "AT90", "AHT90", "RD", "HDRS", "IDPH", "RESD"],
    "RM": ["RM", "ILM", "RILM", "RMED", "LLS", "AT30", "AHT30", "IMPH"],
    "RS": ["RS", "RXO", "RX0", "MSFL", "RSHAL", "SFL", "SFLU", "LL8", "RXOZ"],
    "NPHI": ["NPHI", "NPOR", "TNPH", "PHIN", "NPHIL", "CNC", "NEU", "NPHI_LS", "APLC"],
    "RHOB": ["RHOB", "RHOZ", "DEN", "ZDEN", "RHO8", "DENB", "DENS"],
    "DRHO": ["DRHO", "HDRA", "ZCOR", "DCOR"],
    "DT": ["DT", "DTC", "DTCO", "AC", "DT4P", "DTLN", "SONIC"],
    "DTS": ["DTS", "DTSM", "DT4S"],
    "PE": ["PE", "PEF", "PEFZ", "PEF8", "PDPE"],
    "CALI": ["CALI", "CAL", "HCAL", "CALS", "C1", "CALX"],
    "SP": ["SP", "SPBR"],
    "BS": ["BS", "BIT"],
}

NULL_SENTINELS = (-999.25, -999.0, -9999.0, -9999.25, -99999.0)
FEET_UNITS = {"F", "FT", "FEET", "FOOT", "'"}
METRE_UNITS = {"M", "METER", "METRE", "METERS", "METRES"}
LAS_SUFFIXES = {".las"}
COMPRESSED_SUFFIXES = {".gz"}  # name.las.gz: one gzip-compressed LAS file
ARCHIVE_SUFFIXES = {".zip"}  # a zip of LAS files (sub-folders allowed)
MAX_UNPACKED_BYTES = 2 * 1024 ** 3  # a compressed well larger than this unpacked is refused, not read
TABLE_SUFFIXES = {".csv", ".txt", ".parquet", ".pq"}


class LogsWarning(GeotuneWarning):
    """Something in the input was repaired or ignored; the message says what."""


def warn(message: str, path=None) -> None:
    warnings.warn(f"{os.fspath(path)}: {message}" if path is not None else message, LogsWarning, stacklevel=3)


# ---------------------------------------------------------------- alias table

def load_aliases(path: str | os.PathLike | None = None, extra: Mapping[str, Iterable[str]] | None = None) -> dict:
    """The default alias table, extended by a JSON/YAML file {canonical: [mnemonic, ...]} and/or a mapping."""
    table = {key: list(values) for key, values in DEFAULT_ALIASES.items()}
    additions: dict = {}
    if path is not None:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise DataError(f"cannot read alias table ({exc.strerror or exc})", path) from exc
        try:
            if path.suffix.lower() in (".yaml", ".yml"):
                import yaml

                additions = yaml.safe_load(text) or {}
            else:
                additions = json.loads(text)
        except Exception as exc:  # noqa: BLE001 - any parse failure is the user's file
            raise DataError(f"alias table is not valid JSON/YAML ({exc})", path) from exc
        if not isinstance(additions, dict) or not all(isinstance(v, list) for v in additions.values()):
            raise DataError("alias table must map a canonical name to a list of mnemonics", path)
    for source in (additions, extra or {}):
        for key, values in source.items():
            table.setdefault(str(key).upper(), [])
            table[str(key).upper()] += [str(v) for v in values]
    return table


def _lookup(aliases: Mapping[str, list[str]]) -> dict[str, str]:
    lookup = {}
    for canonical, names in aliases.items():
        lookup.setdefault(canonical.upper(), canonical)
        for name in names:
            lookup.setdefault(name.upper(), canonical)
    return lookup


def canonical_name(mnemonic: str, aliases: Mapping[str, list[str]] | None = None) -> str | None:
    """The canonical name of a mnemonic (``ILD`` -> ``RT``), or None when the table does not know it."""
    base = str(mnemonic).split(":")[0].strip().upper()
    return _lookup(aliases or DEFAULT_ALIASES).get(base)


def apply_aliases(frame: pd.DataFrame, aliases: Mapping[str, list[str]] | None = None,
                  keep: Iterable[str] = (), path=None, report_unknown: bool = False) -> pd.DataFrame:
    """Rename curves to canonical names; columns in ``keep`` are left alone. Two curves that map to one
    name: the first keeps it, the later ones keep their own names (with a warning)."""
    keep = set(keep)
    renames, taken, unknown = {}, set(frame.columns) & keep, []
    for column in frame.columns:
        if column in keep:
            continue
        canonical = canonical_name(column, aliases)
        if canonical is None:
            unknown.append(str(column))
        elif canonical in taken or (canonical in frame.columns and canonical != column):
            warn(f"curve {column!r} would map to {canonical!r}, which another curve already fills; kept as {column!r}",
                 path)
        else:
            renames[column] = canonical
            taken.add(canonical)
    if report_unknown and unknown:
        warn(f"mnemonics not in the alias table, kept under their own names: {', '.join(unknown)} "
             "(extend the table with --aliases FILE.json to map them)", path)
    return frame.rename(columns=renames)


# ---------------------------------------------------------------- readers

def is_las_name(name: str) -> bool:
    """``x.las``, ``x.LAS`` or ``x.las.gz``."""
    lower = name.lower()
    return lower.endswith(".las") or lower.endswith(".las.gz")


def read_logs(path: str | os.PathLike, aliases: Mapping[str, list[str]] | None = None) -> pd.DataFrame:
    """A LAS file (``.las`` or ``.las.gz``), a ``.zip`` of LAS files, a folder of them (searched recursively,
    zips included), or a CSV/Parquet table."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and (is_las_name(p.name) or
                                                                   p.suffix.lower() in ARCHIVE_SUFFIXES))
        if not files:
            raise DataError("folder holds no .las, .las.gz or .zip files", path)
        sources = [source for file in files for source in _sources(file)]
        return _read_wells(sources, aliases, path)
    if not path.exists():
        raise DataError("no such file or folder", path)
    suffix = path.suffix.lower()
    if suffix in ARCHIVE_SUFFIXES:
        return _read_wells(list(_sources(path)), aliases, path)
    if is_las_name(path.name):
        return read_las(path, aliases)
    if suffix in TABLE_SUFFIXES:
        return read_table(path)
    raise DataError(f"unknown log format {suffix!r}: give a .las or .las.gz file, a .zip or folder of them, "
                    "or a .csv/.parquet table", path)


def _sources(file: Path) -> list[tuple[Path, object]]:
    """(name shown to the user, what to read) for each LAS file in ``file``: itself, or a zip's members."""
    if file.suffix.lower() not in ARCHIVE_SUFFIXES:
        return [(file, file)]
    import zipfile

    try:
        archive = zipfile.ZipFile(file)
        members = [m for m in archive.infolist() if not m.is_dir() and is_las_name(m.filename)
                   and not Path(m.filename).name.startswith(".")]
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError(f"cannot open as a zip archive ({exc})", file) from exc
    if not members:
        raise DataError("zip archive holds no .las or .las.gz files", file)
    return [(file / m.filename, (archive, m)) for m in sorted(members, key=lambda m: m.filename)]


def _read_wells(sources: list[tuple[Path, object]], aliases, where: Path) -> pd.DataFrame:
    from . import progress

    frames = []
    for i, (name, source) in enumerate(sources, 1):
        progress.stage(f"reading wells ({name.name})", i, len(sources))
        frames.append(_read_las_bytes(_payload(name, source), name, aliases))
    seen: dict[str, int] = {}
    for frame, (file, _) in zip(frames, sources):  # two files naming the same well stay two wells
        well = frame[WELL].iloc[0]
        if well in seen:
            frame[WELL] = f"{well} ({_stem(file)})"
            warn(f"well name {well!r} is also used by another file; this one is called {frame[WELL].iloc[0]!r}",
                 file)
        seen[well] = 1
    return pd.concat(frames, ignore_index=True, sort=False)


def _stem(path: Path) -> str:
    name = path.name
    return name[: -len(".las.gz")] if name.lower().endswith(".las.gz") else Path(name).stem


def _payload(name: Path, source) -> bytes:
    """The bytes of one LAS file: read from disk or a zip member, gunzipped when named ``.gz``."""
    import gzip
    import io
    import zipfile

    try:
        if isinstance(source, tuple):
            archive, member = source
            if member.file_size > MAX_UNPACKED_BYTES:
                raise DataError(f"zip member is {member.file_size / 1e9:.1f} GB unpacked; refusing to read it", name)
            raw = archive.read(member)
        else:
            raw = Path(source).read_bytes()
    except (OSError, zipfile.BadZipFile, RuntimeError) as exc:  # RuntimeError: encrypted zip member
        raise DataError(f"cannot read ({exc})", name) from exc
    if name.name.lower().endswith(".gz"):
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as handle:
                raw = handle.read(MAX_UNPACKED_BYTES + 1)
        except (OSError, EOFError) as exc:
            raise DataError(f"not a readable gzip file ({exc})", name) from exc
        if len(raw) > MAX_UNPACKED_BYTES:
            raise DataError("unpacks to more than 2 GB; refusing to read it", name)
    return raw


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """A CSV or Parquet table; common null sentinels (-999.25, ...) become missing values."""
    path = Path(path)
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path)
    except FileNotFoundError as exc:
        raise DataError("no such file", path) from exc
    except Exception as exc:  # noqa: BLE001 - parser errors come in many types
        raise DataError(f"cannot read as a table ({type(exc).__name__}: {exc})", path) from exc
    if frame.empty:
        raise DataError("table has no rows", path)
    return replace_sentinels(frame, path)


def replace_sentinels(frame: pd.DataFrame, path=None) -> pd.DataFrame:
    numeric = frame.select_dtypes(include="number").columns
    if len(numeric):
        mask = frame[numeric].isin(NULL_SENTINELS)
        count = int(mask.to_numpy().sum())
        if count:
            frame = frame.copy()
            frame[numeric] = frame[numeric].mask(mask)
            columns = [c for c in numeric if mask[c].any()]
            warn(f"{count} null sentinel values ({', '.join(map(str, NULL_SENTINELS[:2]))}, ...) in "
                 f"{', '.join(map(str, columns))} treated as missing", path)
    return frame


def _lasio_read(raw: bytes, path: Path):
    """lasio with the retries that rescue real files: another encoding, header errors skipped,
    the pure-Python engine. Returns (las, what was done)."""
    import io
    import logging

    import lasio

    if not raw.strip():
        raise DataError("file is empty", path)
    attempts: list[tuple[dict, str]] = [({}, "")]
    if raw[1:200:2].count(0) > 50 or raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        attempts.insert(0, ({"encoding": "utf-16-le" if raw[1] == 0 or raw[:2] == b"\xff\xfe" else "utf-16-be"},
                            "read as UTF-16"))
    attempts += [({"ignore_header_errors": True}, "header lines lasio could not parse were skipped"),
                 ({"engine": "normal"}, "read with lasio's pure-Python engine")]
    errors = []
    lasio_logger = logging.getLogger("lasio")
    level = lasio_logger.level
    lasio_logger.setLevel(logging.ERROR)  # lasio's informational chatter is not the user's problem
    try:
        for options, note in attempts:
            options = dict(options)
            # text handed over in memory (works for gzip and zip members too; lasio never treats it as a URL)
            text = io.StringIO(raw.decode(options.pop("encoding", "utf-8"), errors="replace"), newline=None)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    return lasio.read(text, **options), note
            except Exception as exc:  # noqa: BLE001 - lasio raises many kinds for bad files
                errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}")
    finally:
        lasio_logger.setLevel(level)
    first = errors[0]
    if "No ~ sections found" in first:
        raise DataError("not a LAS file (no ~ sections found)", path)
    raise DataError(f"cannot read this LAS file; lasio says {first}", path)


def read_las(path: str | os.PathLike, aliases: Mapping[str, list[str]] | None = None) -> pd.DataFrame:
    """One LAS file (``.las`` or ``.las.gz``) -> table with WELL, DEPTH (increasing) and its curves under
    canonical names."""
    path = Path(path)
    if not path.is_file():
        raise DataError("no such file", path)
    return _read_las_bytes(_payload(path, path), path, aliases)


def _read_las_bytes(raw: bytes, path: Path, aliases: Mapping[str, list[str]] | None = None) -> pd.DataFrame:
    las, note = _lasio_read(raw, path)
    if note:
        warn(f"lasio could not read it as is; {note}", path)
    try:
        curves = [c.mnemonic for c in las.curves]
        data = np.asarray(las.data)
    except Exception as exc:  # noqa: BLE001
        raise DataError(f"cannot read the curve data ({exc})", path) from exc
    if not curves:
        raise DataError("no curves defined (~Curve section missing or empty)", path)
    if data.ndim != 2 or data.shape[0] == 0:
        raise DataError("no data rows (the ~A section is missing or empty)", path)
    if data.shape[1] < len(curves):
        missing = curves[data.shape[1]:]
        warn(f"curves {', '.join(missing)} are defined in ~Curve but have no data; left out", path)
        curves = curves[: data.shape[1]]
    frame = pd.DataFrame({name: list(data[:, i]) for i, name in enumerate(curves)})
    frame = frame.loc[:, ~frame.columns.duplicated()]

    # numbers: lasio leaves text columns (times, dates, run-on values) as strings
    converted, dropped = {}, []
    for name in frame.columns:
        values = pd.to_numeric(frame[name], errors="coerce")
        if values.notna().sum() == 0 and frame[name].notna().any() and frame[name].astype(str).str.strip().ne("").any() \
                and not pd.api.types.is_numeric_dtype(frame[name]):
            dropped.append(name)
        else:
            converted[name] = values.astype(float)
    if dropped:
        warn(f"non-numeric curves left out: {', '.join(dropped)}", path)
    frame = pd.DataFrame(converted)

    depth_name = next((c for c in frame.columns if canonical_name(c, aliases) == "DEPTH"), None)
    if depth_name is None:
        depth_name = frame.columns[0] if len(frame.columns) else None
        if depth_name is None:
            raise DataError("no numeric curves", path)
        warn(f"no depth curve (DEPT, DEPTH, MD, ...); the first curve {depth_name!r} is used as depth", path)
    depth = frame.pop(depth_name)
    if depth.isna().all():
        raise DataError(f"depth curve {depth_name!r} holds no numbers", path)
    if depth.isna().any():
        warn(f"{int(depth.isna().sum())} rows without a depth value left out", path)
        keep = depth.notna().to_numpy()
        frame, depth = frame[keep].reset_index(drop=True), depth[keep].reset_index(drop=True)

    unit = _index_unit(las, depth_name)
    if unit in FEET_UNITS:
        depth = depth * 0.3048
    elif unit not in METRE_UNITS:
        warn(f"depth unit {unit or 'not stated'!r} is neither feet nor metres (or the header contradicts itself); "
             "depth values kept as they are", path)

    frame = replace_sentinels(frame, path)
    frame = apply_aliases(frame, aliases, path=path, report_unknown=True)
    for name in list(frame.columns):
        if frame[name].isna().all():
            warn(f"curve {name!r} is null throughout; kept as an all-missing curve (the model treats it as absent)",
                 path)
    for reserved in (DEPTH, WELL):  # e.g. a second DEPT curve: the index curve already gives the depth
        if reserved in frame.columns:
            warn(f"a second {reserved} curve left out (the file's index curve gives it)", path)
            frame = frame.drop(columns=reserved)
    frame.insert(0, DEPTH, depth.to_numpy(dtype=float))
    frame.insert(0, WELL, _well_name(las, path))
    return order_by_depth(frame, WELL, DEPTH, path)


def _index_unit(las, depth_name: str) -> str:
    unit = ""
    try:
        unit = (las.curves[depth_name].unit or "").strip().upper()
    except (KeyError, AttributeError, IndexError):
        pass
    if not unit:
        unit = (getattr(las, "index_unit", None) or "").strip().upper()
    return unit


def _well_name(las, path: Path) -> str:
    for key in ("WELL", "UWI"):
        try:
            value = str(las.well[key].value).strip()
        except (KeyError, AttributeError):
            continue
        if value:
            return value
    return _stem(path)


def order_by_depth(frame: pd.DataFrame, well: str, depth: str, path=None, sort: bool = False) -> pd.DataFrame:
    """Rows of each well in increasing depth. A decreasing log is reversed. Otherwise, with ``sort`` (tables,
    whose rows need not be a sequence) the rows are sorted by depth; without it (a LAS file's samples) a depth
    that goes up and down or repeats keeps file order and features follow sample order. Both warn."""
    pieces = []
    for name, rows in frame.groupby(well, sort=False):
        values = rows[depth].to_numpy(dtype=float)
        steps = np.diff(values)
        if len(values) > 1 and np.all(steps < 0):
            rows = rows.iloc[::-1]
        elif len(values) > 1 and not np.all(steps > 0):
            repeats = int(np.sum(steps == 0))
            reversals = int(np.sum(np.diff(np.sign(steps[steps != 0])) != 0)) if np.any(steps != 0) else 0
            if sort and reversals:
                rows = rows.iloc[np.argsort(values, kind="stable")]
                warn(f"rows of well {name!r} were not in depth order; sorted by depth for the depth features "
                     "(outputs keep the input order)" + (f"; {repeats} repeated depths" if repeats else ""), path)
            else:
                warn(f"depth in well {name!r} is not monotonic ({repeats} repeated values, {reversals} reversals); "
                     "rows kept in file order and depth features computed in sample order", path)
        pieces.append(rows)
    return pd.concat(pieces).reset_index(drop=True) if len(pieces) > 1 else pieces[0].reset_index(drop=True)
