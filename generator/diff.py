"""specgen diff: what changed between two revisions of a spec, each change classified as breaking (error), warning or
info, as oasdiff does. Requests and responses are compared in their own direction (a narrower request type breaks
clients, a wider response type does), readOnly properties only in responses and writeOnly ones only in requests, and
a change inside a referenced component is reported at every operation that uses it, located at the component."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from .diagnostics import Diagnostic, Level, SpecError, escape_pointer_token, join_pointer, pointer_of, split_pointer
from .load import LoadedSpec, load_spec

ERROR, WARNING, INFO = Level.ERROR, Level.WARNING, Level.INFO
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
UPPER = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")  # a lower value is narrower
LOWER = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")  # a higher value is narrower


@dataclass(frozen=True)
class Change:
    level: Level
    rule: str
    pointer: str  # where the change is seen, at its use: /paths/~1pets/post/requestBody/…/properties/name
    message: str
    source: str  # the node in the revision it belongs to (a component's own pointer through a $ref): file:line


@dataclass(frozen=True)
class _Found:
    """A change inside a schema, relative to it, so one comparison of a component serves every use."""

    level: Level
    rule: str
    tokens: tuple[str, ...]
    message: str
    source: str


@dataclass
class Report:
    changes: list[Diagnostic]
    base_version: str
    revision_version: str

    @property
    def breaking(self) -> int:
        return sum(c.level is ERROR for c in self.changes)

    @property
    def major_raised(self) -> bool:
        """A deliberate breaking change raises info.version's major part: then it is allowed."""
        base, revision = _major(self.base_version), _major(self.revision_version)
        return base is not None and revision is not None and revision > base

    def failed(self, fail_on: Level) -> bool:
        if self.breaking and not self.major_raised:
            return True
        return fail_on is WARNING and any(c.level is WARNING for c in self.changes)


def _major(version: str) -> int | None:
    found = re.match(r"v?(\d+)", version.strip())
    return int(found.group(1)) if found else None


# --- loading either side: a file, or `REV:path` at a git revision -----------------------------------------------


@dataclass
class Side:
    spec: LoadedSpec
    label: str  # how its files are named in the output: `spec/components/x.yaml`, `origin/main:spec/…`
    folder: Path  # the folder the spec's file names are relative to
    prefix: str = ""  # `origin/main:` for a git revision

    def locate(self, pointer: str) -> tuple[str, int, int]:
        where = self.spec.locate(pointer)
        path = self.folder / where.file
        if self.prefix:
            return self.prefix + str(PurePosixPath(self.label).parent / where.file), where.line, where.column
        try:
            shown = str(path.relative_to(Path.cwd()))
        except ValueError:
            shown = str(path)
        return shown, where.line, where.column


def load_side(argument: str, scratch: Path) -> Side:
    """A spec file, or `REV:path` (path from the repository's root, as git reads it) whose folder is taken from
    that revision, so a split spec resolves its files as they were."""
    if Path(argument).exists() or ":" not in argument:
        spec = _loaded(Path(argument), Path(argument).resolve().parent, "")
        return Side(spec, argument, spec.root.parent)
    revision, _, path = argument.partition(":")
    root = _git(["rev-parse", "--show-toplevel"], argument).strip()
    inside = PurePosixPath(path.removeprefix("./"))
    folder = scratch / re.sub(r"[^A-Za-z0-9]+", "-", revision)
    folder.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", root, "archive", "--format=tar", revision, "--", str(inside.parent)],
                             capture_output=True)
    if archive.returncode != 0:
        raise SpecError([Diagnostic(argument, 0, "", "diff", f"git cannot read {inside.parent} at {revision}: "
                                    f"{archive.stderr.decode(errors='replace').strip()}")])
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(folder, filter="data")
    if not (folder / inside).is_file():
        raise SpecError([Diagnostic(argument, 0, "", "diff", f"no {inside} at {revision}")])
    spec = _loaded(folder / inside, inside.parent, f"{revision}:")
    return Side(spec, str(inside), spec.root.parent, prefix=f"{revision}:")


def _loaded(path: Path, shown_folder: Path | PurePosixPath, prefix: str) -> LoadedSpec:
    """The spec, or its problems named as the user knows its files: relative to here, or `REV:path`."""
    try:
        return load_spec(path)
    except SpecError as exc:
        def shown(file: str) -> str:
            if prefix:
                return prefix + str(PurePosixPath(shown_folder) / file)
            located = Path(shown_folder) / file
            return os.path.relpath(located) if located.is_relative_to(Path.cwd()) else str(located)

        raise SpecError([replace(d, file=shown(d.file)) for d in exc.diagnostics]) from exc


def _git(arguments: list[str], argument: str) -> str:
    done = subprocess.run(["git", *arguments], capture_output=True, text=True)
    if done.returncode != 0:
        raise SpecError([Diagnostic(argument, 0, "", "diff", f"not a file, and git cannot read it: "
                                    f"{done.stderr.strip()}")])
    return done.stdout


# --- comparing ----------------------------------------------------------------------------------------------------


@dataclass
class _Schema:
    """A schema with its `$ref`s followed and its `allOf` merged: what a value must be."""

    node: dict[str, Any]
    pointer: str  # where its keywords are (after the last $ref)
    ref: str  # the component it is, "" for an inline schema
    properties: dict[str, tuple[Any, str]] = field(default_factory=dict)  # name → (schema, pointer)
    required: set[str] = field(default_factory=set)
    types: frozenset[str] | None = None  # None: any type
    variants: list[tuple[Any, str]] = field(default_factory=list)  # anyOf/oneOf members other than null
    nullable: bool = False


class _Differ:
    def __init__(self, base: dict[str, Any], revision: dict[str, Any]):
        self.base, self.revision = base, revision
        self.v30 = (str(base.get("openapi", "")).startswith("3.0"), str(revision.get("openapi", "")).startswith("3.0"))
        self.memo: dict[tuple[str, str, str], list[_Found]] = {}  # complete comparisons of two components
        self.open: dict[tuple[str, str, str], int] = {}  # comparisons under way → their depth
        self.lowest_open = 0  # the shallowest open comparison a cycle reached since the current one began
        self.changed = _changed_components(base, revision)

    def unchanged(self, base: Any, revision: Any) -> bool:
        """The same text, reaching no component that changed: nothing to compare (most of any real diff)."""
        return base == revision and not (self.changed and _refs(revision) & self.changed)

    # documents

    def resolve(self, document: dict[str, Any], node: Any, pointer: str) -> tuple[Any, str, str]:
        """Follow `$ref`s: the node, its pointer and the last component reference ("" when inline)."""
        ref = ""
        seen = set()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#"):
            ref = node["$ref"]
            if ref in seen:
                break
            seen.add(ref)
            pointer = ref[1:]
            node = document
            for token in split_pointer(pointer):
                node = node.get(token) if isinstance(node, dict) else None
        return node, pointer, ref

    def schema(self, side: int, node: Any, pointer: str) -> _Schema:
        document = (self.base, self.revision)[side]
        node, pointer, ref = self.resolve(document, node, pointer)
        node = node if isinstance(node, dict) else {}
        merged = _Schema(dict(node), pointer, ref)
        self._merge(side, merged, node, pointer, depth=0)
        if merged.nullable and merged.types is not None:
            merged.types |= {"null"}
        return merged

    def _merge(self, side: int, into: _Schema, node: dict[str, Any], pointer: str, depth: int) -> None:
        """Fold `node` into `into`: an allOf member's keywords and properties join its parent's, and
        `anyOf: [X, {type: null}]` (or 3.0's `nullable`) is X, nullable."""
        document = (self.base, self.revision)[side]
        if depth:
            for keyword, value in node.items():
                into.node.setdefault(keyword, value)
        types = node.get("type")
        if types is not None:
            found = frozenset([types] if isinstance(types, str) else [t for t in types if isinstance(t, str)])
            into.types = found if into.types is None else into.types & found
        into.nullable |= node.get("nullable") is True and self.v30[side]
        properties = node.get("properties")
        if isinstance(properties, dict):
            for name, value in properties.items():
                into.properties.setdefault(name, (value, join_pointer(join_pointer(pointer, "properties"), name)))
        into.required |= {r for r in node.get("required") or [] if isinstance(r, str)}
        for keyword in ("anyOf", "oneOf"):
            members = node.get(keyword)
            if not isinstance(members, list):
                continue
            variants = []
            for i, member in enumerate(members):
                at = join_pointer(join_pointer(pointer, keyword), i)
                resolved = self.resolve(document, member, at)[0]
                if isinstance(resolved, dict) and resolved.get("type") == "null":
                    into.nullable = True
                else:
                    variants.append((member, at))
            if len(variants) == 1 and len(members) > 1 and depth < 32:
                resolved, at, _ = self.resolve(document, *variants[0])
                if isinstance(resolved, dict):
                    self._merge(side, into, resolved, at, depth + 1)
            else:
                into.variants += variants
        for i, member in enumerate(node.get("allOf") or []):
            resolved, at, _ = self.resolve(document, member, join_pointer(join_pointer(pointer, "allOf"), i))
            if isinstance(resolved, dict) and depth < 32:
                self._merge(side, into, resolved, at, depth + 1)

    def compare(self, base: Any, base_ptr: str, revision: Any, rev_ptr: str, direction: str) -> list[_Found]:
        """Changes from `base` to `revision` that matter to a value sent in `direction` (request | response)."""
        if self.unchanged(base, revision):
            return []
        _, _, base_ref = self.resolve(self.base, base, base_ptr)
        _, _, rev_ref = self.resolve(self.revision, revision, rev_ptr)
        key = (base_ref, rev_ref, direction)
        if not (base_ref and rev_ref):
            return list(self._compare(self.schema(0, base, base_ptr), self.schema(1, revision, rev_ptr), direction))
        if key in self.memo:
            return self.memo[key]
        if key in self.open:  # a cycle: its changes are reported where it was entered
            self.lowest_open = min(self.lowest_open, self.open[key])
            return []
        depth = self.open[key] = len(self.open)
        outer, self.lowest_open = self.lowest_open, depth
        try:
            found = list(self._compare(self.schema(0, base, base_ptr), self.schema(1, revision, rev_ptr), direction))
        finally:
            del self.open[key]
        if self.lowest_open >= depth:  # complete: no cycle back to a comparison still open above this one
            self.memo[key] = found
        self.lowest_open = min(outer, self.lowest_open)
        return found

    def _compare(self, base: _Schema, rev: _Schema, direction: str) -> Iterator[_Found]:
        request = direction == "request"
        b, r = base.node, rev.node

        def at(keyword: str) -> str:
            """The keyword's own node where the revision has it, so file:line is the component file's line."""
            return join_pointer(rev.pointer, keyword) if keyword in r else rev.pointer

        def found(level: Level, rule: str, keyword: str, message: str) -> _Found:
            return _Found(level, rule, (), message, at(keyword))

        yield from self._types(base, rev, request, at("type"))
        if "enum" in r or "enum" in b:
            before = {json.dumps(v, sort_keys=True): v for v in b.get("enum") or []} if "enum" in b else None
            after = {json.dumps(v, sort_keys=True): v for v in r.get("enum") or []} if "enum" in r else None
            if request and after is not None:
                removed = [v for k, v in (before or {}).items() if k not in after]
                if before is None:
                    yield found(ERROR, "request-enum-added", "enum", f"now limited to {list(after.values())}")
                elif removed:
                    yield found(ERROR, "request-enum-value-removed", "enum", f"no longer accepts {removed}")
            if not request and before is not None:
                added = [v for k, v in (after or {}).items() if k not in before]
                if after is None:
                    yield found(WARNING, "response-enum-removed", "enum", f"no longer limited to {list(before.values())}")
                elif added:
                    yield found(ERROR, "response-enum-value-added", "enum", f"may now answer {added}")
        if b.get("format") != r.get("format"):
            message = f"format {_text(b.get('format'))} became {_text(r.get('format'))}"
            if request and r.get("format") is not None:
                yield found(ERROR, "request-format-changed", "format", message)
            elif not request and b.get("format") is not None:
                yield found(WARNING, "response-format-changed", "format", message)
        for keyword in UPPER + LOWER:
            low, high = _number(b.get(keyword)), _number(r.get(keyword))
            if low == high:
                continue
            upper = keyword in UPPER
            narrower = high is not None and (low is None or (high < low if upper else high > low))
            if request and narrower:
                yield found(ERROR, f"request-{'max-decreased' if upper else 'min-increased'}", keyword,
                            f"{keyword} {_shown(low)} became {high}")
            elif not request and not narrower and low is not None:
                yield found(WARNING, f"response-{'max-increased' if upper else 'min-decreased'}", keyword,
                            f"{keyword} {low} became {_shown(high)}")
        if b.get("pattern") != r.get("pattern") and r.get("pattern") is not None:
            # Whether one regex accepts less than another is not decidable here: a new pattern on a request
            # narrows it; a changed one may, and is a warning either way.
            message = f"pattern {_text(b.get('pattern'))} became {_text(r.get('pattern'))}"
            if request and b.get("pattern") is None:
                yield found(ERROR, "request-pattern-added", "pattern", message)
            elif b.get("pattern") is not None:
                yield found(WARNING, f"{direction}-pattern-changed", "pattern", message)
        if request and "default" in b and "default" in r and b["default"] != r["default"]:
            yield found(WARNING, "default-changed", "default", f"default {b['default']!r} became {r['default']!r}")
        yield from self._properties(base, rev, request)
        for keyword in ("items", "additionalProperties"):
            if isinstance(b.get(keyword), dict) and isinstance(r.get(keyword), dict):
                for f in self.compare(b[keyword], join_pointer(base.pointer, keyword), r[keyword],
                                      join_pointer(rev.pointer, keyword), direction):
                    yield _Found(f.level, f.rule, (keyword, *f.tokens), f.message, f.source)
        yield from self._variants(base, rev, direction)

    def _types(self, base: _Schema, rev: _Schema, request: bool, at: str) -> Iterator[_Found]:
        if base.types == rev.types or (request and rev.types is None) or (not request and base.types is None):
            return
        before, after = _widened(base.types), _widened(rev.types)
        if request:
            lost = before - after if base.types is not None else {"any type"}
            if lost:
                rule = "request-became-non-nullable" if lost == {"null"} else "request-type-changed"
                yield _Found(ERROR, rule, (), f"type {_type_text(base.types)} became {_type_text(rev.types)}", at)
        else:
            gained = after - before if rev.types is not None else {"any type"}
            if gained:
                rule = "response-became-nullable" if gained == {"null"} else "response-type-changed"
                yield _Found(ERROR, rule, (), f"type {_type_text(base.types)} became {_type_text(rev.types)}", at)

    def _properties(self, base: _Schema, rev: _Schema, request: bool) -> Iterator[_Found]:
        hidden = "readOnly" if request else "writeOnly"  # not part of a value sent this way

        def visible(schema: _Schema, side: int) -> dict[str, tuple[Any, str]]:
            document = (self.base, self.revision)[side]
            return {name: (node, at) for name, (node, at) in schema.properties.items()
                    if not _flag(self.resolve(document, node, at)[0], node, hidden)}

        before, after = visible(base, 0), visible(rev, 1)
        listed = join_pointer(rev.pointer, "properties") if "properties" in rev.node else rev.pointer
        for name in sorted(before.keys() - after.keys()):
            tokens = ("properties", name)
            if request:
                yield _Found(WARNING, "request-property-removed", tokens, f"property {name!r} removed", listed)
            elif name in base.required:
                yield _Found(ERROR, "response-required-property-removed", tokens, f"property {name!r} removed", listed)
            else:
                yield _Found(WARNING, "response-optional-property-removed", tokens, f"property {name!r} removed", listed)
        for name in sorted(after.keys() - before.keys()):
            tokens, at = ("properties", name), after[name][1]
            if request and name in rev.required:
                yield _Found(ERROR, "new-required-request-property", tokens, f"new required property {name!r}", at)
            else:
                yield _Found(INFO, f"{'request' if request else 'response'}-property-added", tokens,
                             f"new property {name!r}", at)
        for name in sorted(before.keys() & after.keys()):
            tokens, at = ("properties", name), after[name][1]
            if request and name in rev.required and name not in base.required:
                yield _Found(ERROR, "request-property-became-required", tokens, f"property {name!r} is now required", at)
            if not request and name in base.required and name not in rev.required:
                yield _Found(ERROR, "response-property-became-optional", tokens, f"property {name!r} may now be absent", at)
            for f in self.compare(before[name][0], before[name][1], after[name][0], at, "request" if request else "response"):
                yield _Found(f.level, f.rule, (*tokens, *f.tokens), f.message, f.source)

    def _variants(self, base: _Schema, rev: _Schema, direction: str) -> Iterator[_Found]:
        if not base.variants and not rev.variants:
            return

        def keyed(schema: _Schema, side: int) -> dict[str, tuple[Any, str]]:
            document = (self.base, self.revision)[side]
            return {self.resolve(document, node, at)[2] or str(i): (node, at) for i, (node, at) in enumerate(schema.variants)}

        before, after = keyed(base, 0), keyed(rev, 1)
        request = direction == "request"
        for key in before.keys() - after.keys() if request else ():
            yield _Found(ERROR, "request-variant-removed", (), f"no longer accepts {_name(key)}", rev.pointer)
        for key in sorted(after.keys() - before.keys()) if not request else ():
            yield _Found(ERROR, "response-variant-added", (), f"may now answer {_name(key)}", after[key][1])
        for key in sorted(before.keys() & after.keys()):
            (b, b_at), (r, r_at) = before[key], after[key]
            yield from self.compare(b, b_at, r, r_at, direction)


def _components(document: dict[str, Any]) -> dict[str, Any]:
    """`#/components/<kind>/<name>` → its definition, as `$ref`s name them."""
    return {f"#/components/{kind}/{escape_pointer_token(name)}": node
            for kind, group in (document.get("components") or {}).items() if isinstance(group, dict)
            for name, node in group.items()}


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("$ref"), str):
                found.add(item["$ref"])
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return found


def _changed_components(base: dict[str, Any], revision: dict[str, Any]) -> set[str]:
    """The components whose definition differs, and every component that reaches one of them."""
    before, after = _components(base), _components(revision)
    changed = {ref for ref in before.keys() | after.keys() if before.get(ref, changed_marker) != after.get(ref, changed_marker)}
    if not changed:
        return changed
    users: dict[str, set[str]] = {}
    for components in (before, after):
        for ref, node in components.items():
            for target in _refs(node):
                users.setdefault(target, set()).add(ref)
    frontier = list(changed)
    while frontier:
        for user in users.get(frontier.pop(), ()):
            if user not in changed:
                changed.add(user)
                frontier.append(user)
    return changed


changed_marker = object()  # a component on one side only


def _flag(resolved: Any, node: Any, flag: str) -> bool:
    return any(isinstance(n, dict) and n.get(flag) is True for n in (resolved, node))


def _number(value: Any) -> float | None:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _widened(types: frozenset[str] | None) -> set[str]:
    """The types a value may have: an integer is a number too."""
    found = set(types or ())
    return found | {"integer"} if "number" in found else found


def _type_text(types: frozenset[str] | None) -> str:
    return "/".join(sorted(types)) if types else "any"


def _shown(value: float | None) -> str:
    return "unset" if value is None else str(value)


def _text(value: Any) -> str:
    return "unset" if value is None else repr(value)


def _name(key: str) -> str:
    return key.rsplit("/", 1)[-1] if key.startswith("#") else f"variant {key}"


# --- operations -------------------------------------------------------------------------------------------------


class _Operations:
    """Operation-level rules; schemas go to the `_Differ`, whose findings are placed at each use."""

    def __init__(self, base: dict[str, Any], revision: dict[str, Any]):
        self.base, self.revision = base, revision
        self.differ = _Differ(base, revision)
        self.changes: list[Change] = []

    def add(self, level: Level, rule: str, pointer: str, message: str, source: str | None = None) -> None:
        self.changes.append(Change(level, rule, pointer, message, source or pointer))

    def placed(self, found: list[_Found], use: str) -> None:
        for f in found:
            self.add(f.level, f.rule, pointer_of([*split_pointer(use), *f.tokens]), f.message, f.source)

    def run(self) -> list[Change]:
        base_paths = _paths(self.base)
        rev_paths = _paths(self.revision)
        for shape, (path, item) in base_paths.items():
            if shape not in rev_paths:
                self.add(ERROR, "path-removed", pointer_of(["paths", path]), f"path {path} removed", "/paths")
                continue
            rev_path, rev_item = rev_paths[shape]
            names = _renamed_path_parameters(path, rev_path)
            for old, new in names.items():
                if old != new:
                    self.add(WARNING, "path-parameter-renamed", pointer_of(["paths", rev_path]),
                             f"path parameter {old!r} is now {new!r} (a generated client's argument is renamed)")
            for method in METHODS:
                base_op, rev_op = item.get(method), rev_item.get(method)
                where = pointer_of(["paths", rev_path, method])
                if isinstance(base_op, dict) and not isinstance(rev_op, dict):
                    level, note = (WARNING, "deprecated operation") if base_op.get("deprecated") else (ERROR, "operation")
                    self.add(level, "operation-removed", where, f"{note} {method.upper()} {path} removed",
                             pointer_of(["paths", rev_path]))
                elif isinstance(rev_op, dict) and not isinstance(base_op, dict):
                    self.add(INFO, "operation-added", where, f"new operation {method.upper()} {rev_path}")
                elif isinstance(base_op, dict) and isinstance(rev_op, dict):
                    self.operation(item, base_op, rev_item, rev_op, where, names)
        for shape, (path, _) in rev_paths.items():
            if shape not in base_paths:
                self.add(INFO, "path-added", pointer_of(["paths", path]), f"new path {path}")
        return self.changes

    def operation(self, base_item: dict[str, Any], base: dict[str, Any], rev_item: dict[str, Any],
                  rev: dict[str, Any], where: str, renamed: dict[str, str]) -> None:
        shared = (base_item.get("parameters"), self.base.get("security"))
        if self.differ.unchanged((base, shared), (rev, (rev_item.get("parameters"), self.revision.get("security")))):
            return
        if base.get("operationId") and rev.get("operationId") != base.get("operationId"):
            self.add(ERROR, "operation-id-changed", where, f"operationId {base['operationId']!r} became "
                     f"{rev.get('operationId')!r} (a generated client's method is renamed)")
        if rev.get("deprecated") and not base.get("deprecated"):
            self.add(INFO, "operation-deprecated", where, "operation deprecated")
        self.parameters(base_item, base, rev_item, rev, where, renamed)
        self.request_body(base.get("requestBody"), rev.get("requestBody"), where)
        self.responses(base.get("responses") or {}, rev.get("responses") or {}, where)
        self.security(base.get("security", self.base.get("security")) or [],
                      rev.get("security", self.revision.get("security")) or [], where)

    def parameters(self, base_item: dict[str, Any], base: dict[str, Any], rev_item: dict[str, Any],
                   rev: dict[str, Any], where: str, renamed: dict[str, str]) -> None:
        before = self.parameter_map(self.base, base_item, base, where, renamed)
        after = self.parameter_map(self.revision, rev_item, rev, where, {})
        added = {key: after[key] for key in after.keys() - before.keys()}
        for key in sorted(before.keys() - after.keys()):
            location, name = key
            param, _ = before[key]
            moved = next((k for k in added if k[1] == name), None)
            twin = next((k for k in added if k[0] == location
                         and added[k][0].get("schema") == param.get("schema")), None) if moved is None else None
            if moved:
                self.add(ERROR, "parameter-moved", added.pop(moved)[1], f"{location} parameter {name!r} moved to {moved[0]}")
            elif twin:
                self.add(ERROR, "parameter-renamed", added.pop(twin)[1], f"{location} parameter {name!r} renamed {twin[1]!r}")
            else:
                self.add(ERROR, "parameter-removed", where, f"{location} parameter {name!r} removed")
        for key in sorted(added):
            param, at = added[key]
            if param.get("required"):
                self.add(ERROR, "new-required-parameter", at, f"new required {key[0]} parameter {key[1]!r}")
            else:
                self.add(INFO, "parameter-added", at, f"new {key[0]} parameter {key[1]!r}")
        for key in sorted(before.keys() & after.keys()):
            (b, b_at), (r, r_at) = before[key], after[key]
            if r.get("required") and not b.get("required"):
                self.add(ERROR, "parameter-became-required", r_at, f"{key[0]} parameter {key[1]!r} is now required")
            if (b.get("style"), b.get("explode")) != (r.get("style"), r.get("explode")):
                self.add(WARNING, "parameter-serialization-changed", r_at, f"{key[0]} parameter {key[1]!r} is "
                         f"serialised differently (style/explode)")
            if isinstance(b.get("schema"), dict) and isinstance(r.get("schema"), dict):
                use = join_pointer(r_at, "schema")
                self.placed(self.differ.compare(b["schema"], join_pointer(b_at, "schema"), r["schema"], use, "request"), use)

    def parameter_map(self, document: dict[str, Any], item: dict[str, Any], op: dict[str, Any], where: str,
                      renamed: dict[str, str]) -> dict[tuple[str, str], tuple[dict[str, Any], str]]:
        """(in, name) → (parameter, pointer): the path item's, overridden by the operation's; header names are
        case-insensitive; path parameters under the revision's names."""
        found: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}
        path_item = "/".join(where.split("/")[:3])
        for owner, at in ((item, path_item), (op, where)):
            for i, param in enumerate(owner.get("parameters") or []):
                pointer = join_pointer(join_pointer(at, "parameters"), i)
                param, _, _ = self.differ.resolve(document, param, pointer)
                if not isinstance(param, dict) or not isinstance(param.get("name"), str):
                    continue
                name = param["name"].lower() if param.get("in") == "header" else param["name"]
                if param.get("in") == "path":
                    name = renamed.get(name, name)
                found[(str(param.get("in")), name)] = (param, pointer)
        return found

    def request_body(self, base: Any, rev: Any, where: str) -> None:
        at = join_pointer(where, "requestBody")
        base, base_at, _ = self.differ.resolve(self.base, base, at)
        rev, rev_at, _ = self.differ.resolve(self.revision, rev, at)
        if not isinstance(rev, dict):
            if isinstance(base, dict):
                self.add(WARNING, "request-body-removed", where, "request body removed")
            return
        if not isinstance(base, dict):
            if rev.get("required"):
                self.add(ERROR, "new-required-request-body", at, "new required request body")
            return
        if rev.get("required") and not base.get("required"):
            self.add(ERROR, "request-body-became-required", at, "request body is now required")
        self.content(base.get("content") or {}, base_at, rev.get("content") or {}, at, rev_at, "request")

    def content(self, base: dict[str, Any], base_at: str, rev: dict[str, Any], use: str, rev_at: str,
                direction: str) -> None:
        for media in sorted(base.keys() - rev.keys()):
            self.add(ERROR, f"{direction}-media-type-removed", use, f"media type {media} removed", rev_at)
        for media in sorted(base.keys() & rev.keys()):
            b, r = base[media] or {}, rev[media] or {}
            if isinstance(b.get("schema"), dict) and isinstance(r.get("schema"), dict):
                here = pointer_of([*split_pointer(use), "content", media, "schema"])
                found = self.differ.compare(b["schema"], pointer_of([*split_pointer(base_at), "content", media, "schema"]),
                                            r["schema"], pointer_of([*split_pointer(rev_at), "content", media, "schema"]),
                                            direction)
                self.placed(found, here)

    def responses(self, base: dict[str, Any], rev: dict[str, Any], where: str) -> None:
        at = join_pointer(where, "responses")
        base, rev = {str(k): v for k, v in base.items()}, {str(k): v for k, v in rev.items()}
        for status in sorted(base.keys() - rev.keys()):
            success = status.startswith("2")
            self.add(ERROR if success else INFO, f"response-{'success-' if success else ''}status-removed", at,
                     f"response {status} removed")
        for status in sorted(rev.keys() - base.keys()):
            success = status.startswith("2")
            self.add(WARNING if success else INFO, f"response-{'success-' if success else ''}status-added",
                     join_pointer(at, status), f"new response {status}")
        for status in sorted(base.keys() & rev.keys()):
            use = join_pointer(at, status)
            b, b_at, _ = self.differ.resolve(self.base, base[status], use)
            r, r_at, _ = self.differ.resolve(self.revision, rev[status], use)
            if isinstance(b, dict) and isinstance(r, dict):
                self.content(b.get("content") or {}, b_at, r.get("content") or {}, use, r_at, "response")

    def security(self, base: list[dict[str, list[str]]], rev: list[dict[str, list[str]]], where: str) -> None:
        """A client that satisfied one of the base's requirements must still satisfy one of the revision's."""
        base = [r for r in base if isinstance(r, dict)] or [{}]
        rev = [r for r in rev if isinstance(r, dict)] or [{}]
        for requirement in base:
            if any(_covered(option, requirement) for option in rev):
                continue
            same = [option for option in rev if option.keys() == requirement.keys()]
            if same:
                extra = sorted({s for option in same for name, scopes in option.items() for s in scopes or []}
                               - {s for scopes in requirement.values() for s in scopes or []})
                self.add(ERROR, "security-scope-added", where, f"now requires scope(s) {extra}")
            else:
                had = " + ".join(sorted(requirement)) or "no credentials"
                self.add(ERROR, "security-added", where, f"a client with {had} is no longer accepted")


def _covered(option: dict[str, list[str]], held: dict[str, list[str]]) -> bool:
    return all(name in held and set(scopes or []) <= set(held[name] or []) for name, scopes in option.items())


def _paths(document: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Paths by shape (`/pets/{}`): renaming a path parameter keeps the path."""
    found = {}
    for path, item in (document.get("paths") or {}).items():
        if isinstance(item, dict):
            found[re.sub(r"\{[^}/]*\}", "{}", path)] = (path, item)
    return found


def _renamed_path_parameters(base: str, revision: str) -> dict[str, str]:
    return dict(zip(re.findall(r"\{([^}/]*)\}", base), re.findall(r"\{([^}/]*)\}", revision)))


# --- the command ------------------------------------------------------------------------------------------------


def diff(base_argument: str, revision_argument: str) -> Report:
    with tempfile.TemporaryDirectory(prefix="specgen-diff-") as scratch:
        return compare(load_side(base_argument, Path(scratch) / "base"),
                       load_side(revision_argument, Path(scratch) / "revision"))


def compare(base: Side, revision: Side) -> Report:
    changes = _Operations(base.spec.document, revision.spec.document).run()
    rank = {ERROR: 0, WARNING: 1, INFO: 2}
    located = []
    for change in sorted(set(changes), key=lambda c: (rank[c.level], c.pointer, c.rule, c.message)):
        file, line, column = revision.locate(change.source)
        located.append(Diagnostic(file, line, change.pointer, change.rule, change.message, level=change.level,
                                  column=column))
    return Report(located, _version(base.spec.document), _version(revision.spec.document))


def _version(document: dict[str, Any]) -> str:
    return str((document.get("info") or {}).get("version", ""))


def as_json(report: Report) -> str:
    return json.dumps({
        "breaking": report.breaking,
        "allowed": bool(report.breaking) and report.major_raised,
        "changes": [{"level": c.level.value, "rule": c.rule, "pointer": c.pointer, "message": c.message,
                     "file": c.file, "line": c.line, "column": c.column} for c in report.changes],
    }, indent=2)


def as_markdown(report: Report) -> str:
    """A PR comment: a verdict line, then a table of the changes, breaking first."""
    if not report.changes:
        return "### API changes\n\nNo change to the API.\n"
    verdict = (f"**{report.breaking} breaking change(s)**" + (", allowed: the major version was raised"
                                                              if report.major_raised else "")
               if report.breaking else "No breaking change")
    rows = ["| level | rule | where | change |", "| --- | --- | --- | --- |"]
    order = {ERROR: 0, WARNING: 1, INFO: 2}
    for c in sorted(report.changes, key=lambda c: order[c.level]):
        where = f"`{c.pointer}` ({c.file}:{c.line})" if c.line else f"`{c.pointer}`"
        message = c.message.replace("|", "\\|")
        rows.append(f"| {c.level.value} | `{c.rule}` | {where} | {message} |")
    return f"### API changes\n\n{verdict}; {len(report.changes)} change(s) in all.\n\n" + "\n".join(rows) + "\n"


def summary(report: Report) -> str:
    counts = {level: sum(c.level is level for c in report.changes) for level in (ERROR, WARNING, INFO)}
    text = f"{counts[ERROR]} breaking, {counts[WARNING]} warning(s), {counts[INFO]} info"
    if report.breaking and report.major_raised:
        text += f"; allowed: info.version {report.base_version} → {report.revision_version} raises the major part"
    elif report.breaking:
        text += (f"; raise info.version's major part ({report.base_version or 'unset'}) to make them deliberate")
    return text
