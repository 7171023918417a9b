"""Fails when a translation catalogue has untranslated or fuzzy entries, or when its compiled
`.mo` (committed, so a machine without gettext still gets Chinese) is older than the `.po`
(run by `make test`; `make messages` recompiles)."""

import ast
import gettext
import sys
from pathlib import Path

LOCALE = Path(__file__).resolve().parent.parent / "locale"


def problems(po_file: Path) -> list[str]:
    found = []
    entries = po_file.read_text(encoding="utf-8").split("\n\n")
    for entry in entries[1:]:  # the first entry is the header
        lines = [line for line in entry.strip().splitlines() if line and not line.startswith("#~")]
        if not lines:
            continue
        if any(line.startswith("#,") and "fuzzy" in line for line in lines):
            found.append(f"{po_file}: fuzzy: {_msgid(lines)}")
        strs = _values(lines, "msgstr")
        if not strs or any(value == "" for value in strs):
            found.append(f"{po_file}: untranslated: {_msgid(lines)}")
    return found


def _values(lines: list[str], keyword: str) -> list[str]:
    values, current = [], None
    for line in lines:
        if line.startswith(keyword):
            if current is not None:
                values.append(current)
            current = line.split(" ", 1)[1].strip('"')
        elif line.startswith('"') and current is not None:
            current += line.strip('"')
        elif current is not None and not line.startswith('"'):
            values.append(current)
            current = None
    if current is not None:
        values.append(current)
    return values


def stale(po_file: Path) -> list[str]:
    """Plain entries (no context, no plural) whose compiled translation differs from the .po."""
    mo_file = po_file.with_suffix(".mo")
    if not mo_file.exists():
        return [f"{mo_file}: missing (run make messages)"]
    with mo_file.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)._catalog
    found = []
    for entry in po_file.read_text(encoding="utf-8").split("\n\n")[1:]:
        lines = [line for line in entry.strip().splitlines() if line and not line.startswith("#")]
        if any(line.startswith(("msgctxt", "msgid_plural")) for line in lines):
            continue
        ids, strs = _values(lines, "msgid "), _values(lines, "msgstr")
        if not ids or not strs:
            continue
        msgid, msgstr = (ast.literal_eval(f'"{value}"') for value in (ids[0], strs[0]))
        if compiled.get(msgid) != msgstr:
            found.append(f"{mo_file}: out of date (run make messages): {msgid[:60]!r}")
    return found


def _msgid(lines: list[str]) -> str:
    ids = _values(lines, "msgid ")
    return ids[0] if ids else "?"


def main() -> int:
    catalogue = LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"
    if not catalogue.exists():
        print(f"missing {catalogue}")
        return 1
    found = problems(catalogue) or stale(catalogue)
    for line in found:
        print(line)
    print(f"{catalogue.name}: {'OK' if not found else f'{len(found)} problems'}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
