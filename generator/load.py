"""Load a spec split over files into one document with only internal `$ref`s, and a map back to file:line.

Rules of the bundle:
- a `$ref` into the root file stays as an internal ref;
- a `$ref` to a target that the root registers under `components` (`components/schemas/Foo: {$ref: x.yaml#/Foo}`)
  becomes `#/components/schemas/Foo`, so the component keeps its name (models are named after it);
- any other external `$ref` is inlined.
prance then resolves the bundle into the fully dereferenced document that example checks read.
"""

from __future__ import annotations

import hashlib
import json
import marshal
from collections.abc import Container
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import unquote

from ruamel.yaml import YAML
from ruamel.yaml.constructor import ConstructorError, SafeConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, SequenceNode

from .cache import cache_dir, store
from .diagnostics import Diagnostic, SpecError, join_pointer, pointer_of, split_pointer

LINES_UP_TO = 2_000_000
COMPONENT_KINDS = (
    "schemas",
    "responses",
    "parameters",
    "examples",
    "requestBodies",
    "headers",
    "securitySchemes",
    "links",
    "callbacks",
    "pathItems",
)


def display_path(path: Path, root: Path) -> str:
    """Paths relative to the root's folder: output must not depend on where the checkout lives."""
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class Location:
    file: str
    line: int
    column: int = 0  # 1-based; 0 where unknown


@dataclass
class LoadedSpec:
    root: Path
    document: dict[str, Any]
    # Where the bundled nodes come from, recorded only where that jumps (not per node: GitHub's spec has 500,000):
    origins: dict[str, tuple[Path, str]]  # bundled pointer → (file, pointer) its subtree was inlined from
    sites: dict[str, tuple[Path, str]]  # bundled pointer of an inlined `$ref` → where that `$ref` is written
    files: tuple[Path, ...]
    file_cache: _FileCache = field(repr=False)
    _resolved: dict[str, Any] | None = field(default=None, repr=False)

    def locate(self, pointer: str) -> Location:
        """The file and line of the nearest node at or above `pointer`: a node inlined from another file is in
        that file, below the pointer it came from (an inlined `$ref` itself is where it is written)."""
        if pointer in self.sites:
            return self.file_cache.locate(*self.sites[pointer])
        known = _nearest(pointer, self.origins)
        if known is None:
            return Location(self.display(self.root), 0)
        file, file_ptr = self.origins[known]
        return self.file_cache.locate(file, file_ptr + pointer_of(split_pointer(pointer)[len(split_pointer(known)):]))

    def diagnostic(self, pointer: str, rule: str, message: str, **kwargs: Any) -> Diagnostic:
        where = self.locate(pointer)
        return Diagnostic(where.file, where.line, pointer, rule, message, column=where.column, **kwargs)

    def display(self, path: Path) -> str:
        return display_path(path, self.root)

    def resolved(self) -> dict[str, Any]:
        """The document with every internal `$ref` inlined by prance (recursive refs are kept)."""
        if self._resolved is None:
            from prance.util.resolver import RESOLVE_INTERNAL, RefResolver, keep_ref_on_recursion

            resolver = RefResolver(
                self.document,
                url=self.root.as_uri(),
                resolve_types=RESOLVE_INTERNAL,
                recursion_limit_handler=keep_ref_on_recursion,
            )
            resolver.resolve_references(materialize=True)
            self._resolved = resolver.specs
        return self._resolved

    def digest(self) -> str:
        h = hashlib.sha256()
        for path in self.files:
            h.update(self.display(path).encode())
            h.update(path.read_bytes())
        return h.hexdigest()


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


class _FileCache:
    """Each file parsed once by a fast loader (json, or ruamel's C loader for YAML 1.2).

    Line numbers are only needed for diagnostics, so the slow round-trip parse that records them runs on demand,
    once per file that a diagnostic points into.
    """

    def __init__(self, root: Path):
        self.root = root
        self.data: dict[Path, Any] = {}
        self._lines: dict[Path, dict[str, tuple[int, int]]] = {}  # pointer → (line, column), 1-based

    def display(self, path: Path) -> str:
        return display_path(path, self.root)

    def load(self, path: Path) -> Any:
        if path not in self.data:
            if not path.is_file():
                raise SpecError([Diagnostic(self.display(path), 0, "", "ref-resolves", f"file not found: {self.display(path)}")])
            text = path.read_text(encoding="utf-8")
            data = _parsed_before(path, text)
            if data is None:
                data = self._read(path, text)
                _remember_parsed(path, text, data)
            self.data[path] = data
        return self.data[path]

    def _read(self, path: Path, text: str) -> Any:
        if path.suffix.lower() == ".json":
            try:
                return json.loads(text, object_pairs_hook=_reject_duplicate_keys)
            except json.JSONDecodeError as exc:
                raise SpecError([Diagnostic(self.display(path), exc.lineno, "", "json-syntax", exc.msg,
                                            column=exc.colno)]) from exc
            except ValueError:
                pass  # a duplicate key: the YAML parse below reports it with its line
        try:
            return _plain(_safe_yaml(pure=False).load(text))
        except YAMLError:
            # libyaml is stricter than YAML 1.2 in places (`[scope:read]` in a flow sequence): ask the pure parser,
            # which also gives the message users see
            return _plain(self._parse(_safe_yaml(pure=True), path, text))

    def _parse(self, yaml: YAML, path: Path, text: str) -> Any:
        try:
            return yaml.load(text)
        except MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
            problem = " ".join(p for p in (exc.context, exc.problem) if p)
            raise SpecError([Diagnostic(self.display(path), line, "", "yaml-syntax", problem or str(exc),
                                        column=column)]) from exc

    def locate(self, path: Path, pointer: str) -> Location:
        """The line of the node at `pointer` in `path`, or of its nearest ancestor that has one. A JSON file over
        LINES_UP_TO bytes gets none: the line-keeping parse would take longer than generating (the pointer stays)."""
        if path.suffix.lower() == ".json" and path.stat().st_size > LINES_UP_TO:
            return Location(self.display(path), 0)
        if path not in self._lines:
            yaml = YAML(typ="rt")
            self._lines[path] = {}
            _record_lines(self._parse(yaml, path, path.read_text(encoding="utf-8")), "", self._lines[path], (1, 1))
        known = _nearest(pointer, self._lines[path])
        return Location(self.display(path), *(self._lines[path][known] if known is not None else (1, 0)))


def _nearest(pointer: str, known: Container[str]) -> str | None:
    """`pointer` or its nearest ancestor that `known` holds."""
    tokens = split_pointer(pointer)
    while True:
        candidate = pointer_of(tokens)
        if candidate in known:
            return candidate
        if not tokens:
            return None
        tokens.pop()


MERGE_TAG = "tag:yaml.org,2002:merge"


class _MergeAfter(SafeConstructor):
    """Merge keys (`<<: *errors`) as the round-trip loader orders them: the mapping's own keys as written, then the
    merged ones (the safe loader puts merged keys first); own keys win, then earlier merged mappings."""

    def flatten_mapping(self, node: Any) -> None:
        flattened = [(key, value) for key, value in node.value if key.tag != MERGE_TAG]
        seen = {key.value for key, _ in flattened}
        for key, value in node.value:
            if key.tag != MERGE_TAG:
                continue
            for source in value.value if isinstance(value, SequenceNode) else [value]:
                if not isinstance(source, MappingNode):
                    raise ConstructorError("while constructing a mapping", node.start_mark,
                                           f"expected a mapping for merging, but found {source.id}", source.start_mark)
                self.flatten_mapping(source)
                for merged_key, merged_value in source.value:
                    if merged_key.value not in seen:
                        seen.add(merged_key.value)
                        flattened.append((merged_key, merged_value))
        node.value = flattened


def _parse_cache(path: Path, text: str) -> tuple[Path, bytes]:
    """One entry per file (rewritten when it changes), checked against the text's digest."""
    name = hashlib.sha256(str(path).encode()).hexdigest()
    return cache_dir("parsed") / f"{name}.marshal", hashlib.sha256(text.encode()).digest()


def _parsed_before(path: Path, text: str) -> Any:
    """What this file parsed into last time, if it has not changed since: YAML parsing is most of a warm load."""
    entry, digest = _parse_cache(path, text)
    try:
        recorded, data = marshal.loads(entry.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    return data if recorded == digest else None


def _remember_parsed(path: Path, text: str, data: Any) -> None:
    entry, digest = _parse_cache(path, text)
    store(entry, marshal.dumps((digest, data)))


def _safe_yaml(pure: bool) -> YAML:
    yaml = YAML(typ="safe", pure=pure)
    yaml.Constructor = _MergeAfter
    return yaml


def _plain(node: Any) -> Any:
    """Loader output → JSON-like data: string keys (YAML reads `200:` as an int), timestamps kept as written."""
    if isinstance(node, dict):
        return {str(key): _plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(item) for item in node]
    if node is None or type(node) in (str, int, float, bool):
        return node
    if hasattr(node, "isoformat"):  # YAML timestamps: keep the text an OpenAPI document means
        return node.isoformat()
    for kind in (bool, int, float, str):  # ruamel's round-trip subclasses (ScalarInt, ...) → the plain type
        if isinstance(node, kind) or kind is bool and type(node).__name__ == "ScalarBoolean":
            return kind(node)
    return str(node)


def _record_lines(node: Any, pointer: str, lines: dict[str, tuple[int, int]], where: tuple[int, int]) -> None:
    """Walk ruamel's round-trip nodes, recording the 1-based line and column where each node's key (or list
    item) is written: that is where a reader looks for it."""
    own = (node.lc.line + 1, node.lc.col + 1) if hasattr(node, "lc") and node.lc.line is not None else where
    lines[pointer] = where or own
    if isinstance(node, dict):
        for key in node:
            try:
                key_line, key_column = node.lc.key(key)
                key_where = (key_line + 1, key_column + 1)
            except (KeyError, TypeError, AttributeError):
                key_where = own  # a key merged in with `<<`
            _record_lines(node[key], join_pointer(pointer, str(key)), lines, key_where)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            try:
                item_line, item_column = node.lc.item(index)
                item_where = (item_line + 1, item_column + 1)
            except (KeyError, TypeError, AttributeError, IndexError):
                item_where = where
            _record_lines(item, join_pointer(pointer, index), lines, item_where)


def _get(data: Any, pointer: str) -> Any:
    for token in split_pointer(pointer):
        if isinstance(data, list):
            data = data[int(token)]
        elif isinstance(data, dict):
            data = data[token]
        else:
            raise KeyError(token)
    return data


class _Bundler:
    def __init__(self, root: Path):
        self.root = root
        self.files = _FileCache(root)
        self.origins: dict[str, tuple[Path, str]] = {"": (root, "")}
        self.sites: dict[str, tuple[Path, str]] = {}
        self.registry: dict[tuple[Path, str], str] = {}
        self.inlining: list[tuple[Path, str]] = []
        self.paths: dict[tuple[Path, str], Path] = {}

    def resolved_path(self, folder: Path, target: str) -> Path:
        """The file a `$ref` names: resolving touches the file system, and a spec repeats the same few targets."""
        key = (folder, target)
        if key not in self.paths:
            self.paths[key] = (folder / target).resolve()
        return self.paths[key]

    def split_ref(self, ref: str, base: Path) -> tuple[Path, str]:
        """The file and JSON pointer a `$ref` names; both are percent-decoded (a pointer in a URI fragment is
        percent-encoded: `#/paths/~1a~1%7Bid%7D`), and refs kept internal are written back decoded."""
        target, _, encoded = ref.partition("#")
        fragment = unquote(encoded)
        path = self.resolved_path(base.parent, unquote(target)) if target else base
        return path, "/" + fragment.lstrip("/") if fragment.strip("/") else ""

    def register_components(self, document: dict[str, Any]) -> None:
        components = document.get("components") or {}
        for kind in COMPONENT_KINDS:
            for name, value in (components.get(kind) or {}).items():
                if isinstance(value, dict) and isinstance(value.get("$ref"), str) and not value["$ref"].startswith("#"):
                    key = self.split_ref(value["$ref"], self.root)
                    self.registry.setdefault(key, f"#/components/{kind}/{name}")

    def bundle(self) -> dict[str, Any]:
        document = self.files.load(self.root)
        if not isinstance(document, dict):
            raise SpecError([Diagnostic(self.files.display(self.root), 1, "", "document", "the root is not a mapping")])
        self.register_components(document)
        out: dict[str, Any] = self.node(document, self.root, "", "", defining=None)
        return out

    def node(self, value: Any, file: Path, file_ptr: str, out_ptr: str, defining: tuple[Path, str] | None) -> Any:
        """`value` bundled. The hottest loop of loading: every node of a spec passes here, so children's pointers are
        joined once (in the root file the two pointers are the same text) and leaves are copied without a call."""
        same = file_ptr is out_ptr
        if isinstance(value, list):
            out_list = []
            for i, item in enumerate(value):
                child = f"{out_ptr}/{i}"
                is_tree = isinstance(item, (dict, list))
                out_list.append(self.node(item, file, child if same else f"{file_ptr}/{i}", child, None) if is_tree else item)
            return out_list
        if not isinstance(value, dict):
            return value
        ref = value.get("$ref")
        registers = not isinstance(ref, str) and self._registers(out_ptr)
        children = {}
        for key, item in value.items():
            if key == "$ref" and isinstance(ref, str):
                continue
            text = str(key)  # YAML keys may be numbers (`200:`)
            token = text.replace("~", "~0").replace("/", "~1") if "~" in text or "/" in text else text
            child = f"{out_ptr}/{token}"
            if isinstance(item, (dict, list)):
                defines = (self.root, child) if registers else None
                children[key] = self.node(item, file, child if same else f"{file_ptr}/{token}", child, defines)
            else:
                children[key] = item
            if isinstance(ref, str):  # a sibling of a `$ref` stays where it is written, whatever the ref inlines
                self.origins[child] = (file, child if same else f"{file_ptr}/{token}")
        if isinstance(ref, str):
            return self.reference(ref, file, file_ptr, out_ptr, defining, children)
        if out_ptr.endswith("/discriminator") and isinstance(children.get("mapping"), dict):
            children["mapping"] = {
                name: self.mapping_target(target, file, join_pointer(file_ptr, "mapping"), out_ptr)
                for name, target in children["mapping"].items()
            }
        return children

    def mapping_target(self, target: Any, file: Path, file_ptr: str, out_ptr: str) -> Any:
        """Discriminator mappings are references too, but cannot be inlined: they must name a component."""
        if not isinstance(target, str) or "#" not in target and "/" not in target:
            return target  # a bare schema name
        target_file, target_ptr = self.split_ref(target, file)
        here = (file, file_ptr)
        self.check_target(target_file, target_ptr, here, out_ptr, target)
        if target_file == self.root:
            return "#" + target_ptr
        if (target_file, target_ptr) in self.registry:
            return self.registry[(target_file, target_ptr)]
        self.fail(here, out_ptr, f"discriminator mapping {target!r} names no component")

    @staticmethod
    def _registers(out_ptr: str) -> bool:
        """Under root `components/<kind>/<name>` the registered entry itself must be inlined, not pointed at."""
        return out_ptr.startswith("/components/") and out_ptr.count("/") == 2 and out_ptr[12:] in COMPONENT_KINDS

    def reference(
        self,
        ref: str,
        file: Path,
        file_ptr: str,
        out_ptr: str,
        defining: tuple[Path, str] | None,
        siblings: dict[str, Any],
    ) -> dict[str, Any]:
        target_file, target_ptr = self.split_ref(ref, file)
        here = (file, file_ptr)
        if target_file == self.root:
            self.check_target(target_file, target_ptr, here, out_ptr, ref)
            return {"$ref": "#" + target_ptr, **siblings}
        registered = self.registry.get((target_file, target_ptr))
        if registered and defining is None:
            return {"$ref": registered, **siblings}
        key = (target_file, target_ptr)
        if key in self.inlining:
            self.fail(here, out_ptr, f"circular $ref {ref!r}: register its target under root components so it can be named")
        target = self.check_target(target_file, target_ptr, here, out_ptr, ref)
        self.sites.setdefault(out_ptr, here)
        self.origins[out_ptr] = (target_file, target_ptr)
        self.inlining.append(key)
        try:
            inlined = self.node(target, target_file, target_ptr, out_ptr, None)
        finally:
            self.inlining.pop()
        if isinstance(inlined, dict):
            return {**inlined, **siblings}
        return inlined

    def check_target(self, target_file: Path, target_ptr: str, here: tuple[Path, str], out_ptr: str, ref: str) -> Any:
        if target_file != self.root and not target_file.is_file():  # the root is read: thousands of refs go there
            self.fail(here, out_ptr, f"file not found: {self.files.display(target_file)}")
        data = self.files.load(target_file)
        try:
            return _get(data, target_ptr)
        except (KeyError, IndexError, ValueError):
            self.fail(here, out_ptr, f"$ref {ref!r} does not resolve")

    def fail(self, here: tuple[Path, str], out_ptr: str, message: str) -> NoReturn:
        where = self.files.locate(*here)
        raise SpecError([Diagnostic(where.file, where.line, out_ptr, "ref-resolves", message)])



def load_spec(path: str | Path) -> LoadedSpec:
    root = Path(path).resolve()
    bundler = _Bundler(root)
    document = bundler.bundle()
    files = tuple(sorted(bundler.files.data, key=lambda p: bundler.files.display(p)))
    return LoadedSpec(root=root, document=document, origins=bundler.origins, sites=bundler.sites, files=files, file_cache=bundler.files)
