"""Write ``bics/contract/index.json`` from the BICS documentation text.

    python -m bics.contract.build --doc ../shared/bics-api/bics-cpaas-api-1.0.0.txt [--check]

Per operation (keyed by our route name, located by the route's documentation line): the
title at that line, the HTTP methods and ``{endpoint}…`` paths its prose states, the request
fields (where: path, query or body; type, format, required, enum, default, maximum) and the
top-level keys of the first request and response samples (scalars kept, collapsed ``{…}`` /
``[…]`` containers marked). ``--check`` exits 1 when the committed index differs from what
the documentation gives (the file is rewritten either way).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import re
import sys

from bics.contract import INDEX
from bics.routes import ROUTES

BLOCKS = {"path Parameters": "path", "query Parameters": "query",
          "Request Parameters": "body", "Optional Parameters": "body"}
TYPE = re.compile(r"^(string|number|integer|boolean|object|array|Array of (?:strings|objects))"
                  r"(?:\s*<=\s*(\d+(?:\.\d+)?)|\s*<(.+)>)?$")
NAME = re.compile(r"^[A-Za-z_][\w\[\].\-]*$")
SAMPLE_KEY = re.compile(r'^  • "([^"]+)": (.*?),?$')
METHOD = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE)\b|\b(get|post|put|patch|delete) method\b")
STATED_PATH = re.compile(r"\{endpoint\}([a-z0-9_/\-{}]+)")


def _section_bounds() -> list[tuple[str, int, int]]:
    ordered = sorted(ROUTES.values(), key=lambda r: r.line)
    bounds = []
    for i, route in enumerate(ordered):
        end = ordered[i + 1].line if i + 1 < len(ordered) else route.line + 120
        bounds.append((route.name, route.line, end))
    return bounds


def _block_of(line: str) -> str | None:
    if line.startswith("Request Body schema"):
        return "body"
    return BLOCKS.get(line)


def _field(lines: list[str], i: int, where: str) -> dict | None:
    """The field whose type line is ``lines[i]`` (its name above, enum/default below)."""
    match = TYPE.match(lines[i])
    j = i - 1
    required = False
    if j >= 0 and lines[j] == "required":
        required, j = True, j - 1
    if j < 0 or not NAME.match(lines[j]):
        return None  # the export lost the name (e.g. a trailing "object" for meta)
    field = {"name": lines[j], "in": where, "type": match.group(1).lower(),
             "required": required}
    if match.group(2):
        field["maximum"] = float(match.group(2))
    if match.group(3):
        field["format"] = match.group(3)
    for extra in lines[i + 1:i + 3]:
        if extra.startswith("Enum:"):
            field["enum"] = re.findall(r'"([^"]*)"', extra)
        elif extra.startswith("Default:"):
            field["default"] = extra.split(":", 1)[1].strip().strip('"')
    return field


def _table_row(line: str, header: str) -> dict:
    """A row of a "Parameter Description Limit Required" (or "Optional/Mandatory") table."""
    name = line.split()[0]
    if "Optional/Mandatory" in header:
        required = line.split()[1] == "Mandatory"
    else:
        required = line.endswith(" Yes")
    field: dict = {"name": name, "in": "body", "type": "table", "required": required}
    size = re.search(r"(\d+) MB", line)
    if size:
        field["max_mb"] = int(size.group(1))
    kinds = re.search(r"Supported file types: ([^)]*)\)", line)
    if kinds:
        field["extensions"] = [k.strip() for k in kinds.group(1).split(",")]
    return field


def _table(lines: list[str], i: int) -> list[dict]:
    rows = []
    for line in lines[i + 1:]:
        if not line or line in ("Authorizations:", "Note:"):
            break
        rows.append(_table_row(line, lines[i]))
    return rows


def _fields(lines: list[str]) -> list[dict]:
    fields, where = [], None
    for i, line in enumerate(lines):
        if line in ("Responses", "Request samples", "Response samples"):
            break
        if line.startswith("Parameter ") and i and lines[i - 2].startswith("Request Param"):
            fields.extend(_table(lines, i))
            continue
        block = _block_of(line)
        if block:
            where = block
        elif where and TYPE.match(line):
            field = _field(lines, i, where)
            if field:
                fields.append(field)
    return fields


def _sample_value(text: str) -> object:
    if text in ("{", "["):
        return "{…}" if text == "{" else "[…]"
    try:
        return json.loads(text)
    except ValueError:
        return text


def _sample(lines: list[str], heading: str) -> dict | None:
    """Top-level keys of the first sample after ``heading`` (None when there is none)."""
    try:
        start = lines.index(heading)
    except ValueError:
        return None
    keys: dict[str, object] = {}
    for line in lines[start + 1:]:
        if line.strip() in ("Response samples", "}") and keys:
            break
        match = SAMPLE_KEY.match(line.rstrip())
        if match:
            keys[match.group(1)] = _sample_value(match.group(2).rstrip(","))
    return keys or None


def operation(lines: list[str], start: int, end: int) -> dict:
    section = [line.rstrip() for line in lines[start - 1:end - 1]]
    stripped = [line.strip() for line in section]
    prose = stripped[:stripped.index("Authorizations:")] if "Authorizations:" in stripped \
        else stripped
    return {
        "title": stripped[0],
        "line": start,
        "stated_methods": sorted({(a or b).upper()
                                  for a, b in METHOD.findall("\n".join(prose))}),
        "stated_paths": sorted(set(STATED_PATH.findall("\n".join(stripped)))),
        "fields": _fields(stripped),
        "request_sample": _sample(section, "Request samples"),
        "response_sample": _sample(section, "Response samples"),
    }


def dlr_callback(lines: list[str]) -> dict:
    """The flat DLR webhook body of "Receive DLR Updates" (keys and sample values)."""
    start = next(i for i, line in enumerate(lines) if "Receive DLR Updates" in line)
    sample: dict[str, object] = {}
    for line in lines[start:start + 40]:
        match = re.match(r'^\s+"([a-z0-9_]+)"\s*:\s*(.*?),?$', line.rstrip())
        if match:
            sample[match.group(1)] = _sample_value(match.group(2))
    return sample


def sms_units(lines: list[str]) -> dict:
    """Characters per part from "SMS Length Summary": single part, then per part of several."""
    start = lines.index("SMS Length Summary")
    table = lines[start:start + 20]
    counts = [int(m.group(1)) for line in table
              for m in [re.match(r"^1 (\d+) characters$", line)] if m]
    parts = [int(m.group(1)) for line in table
             for m in [re.match(r"^2 \(2 x (\d+)\)", line)] if m]
    return {"gsm": {"single": counts[0], "part": parts[0]},
            "unicode": {"single": counts[1], "part": parts[1]}}


def build(doc: pathlib.Path) -> dict:
    lines = doc.read_text(encoding="utf-8").splitlines()
    ops = {name: operation(lines, start, end) for name, start, end in _section_bounds()}
    return {"source": doc.name, "lines": len(lines), "sms_units": sms_units(lines),
            "dlr_callback_sample": dlr_callback(lines),
            "operations": dict(sorted(ops.items()))}


def render(index: dict) -> str:
    return json.dumps(index, ensure_ascii=False, indent=1, sort_keys=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--doc", required=True, type=pathlib.Path)
    parser.add_argument("--out", type=pathlib.Path, default=INDEX)
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when the committed index differs from the documentation")
    args = parser.parse_args(argv)
    if not args.doc.exists():
        print(f"documentation not found: {args.doc}", file=sys.stderr)
        return 2
    text = render(build(args.doc))
    old = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
    args.out.write_text(text, encoding="utf-8")
    if args.check and old != text:
        print(f"{args.out}: the committed contract index drifted from {args.doc.name}; "
              "review `git diff` and commit it", file=sys.stderr)
        return 1
    print(f"{args.out}: {len(json.loads(text)['operations'])} operations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
