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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError

from .diagnostics import Diagnostic, SpecError, join_pointer, split_pointer

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


@dataclass
class LoadedSpec:
    root: Path
    document: dict[str, Any]
    source_map: dict[str, Location]
    files: tuple[Path, ...]
    _resolved: dict[str, Any] | None = field(default=None, repr=False)

    def locate(self, pointer: str) -> Location:
        """The file and line of the nearest node at or above `pointer`."""
        tokens = split_pointer(pointer)
        while True:
            candidate = "".join(join_pointer("", t) for t in tokens)
            if candidate in self.source_map:
                return self.source_map[candidate]
            if not tokens:
                return Location(self.display(self.root), 0)
            tokens.pop()

    def diagnostic(self, pointer: str, rule: str, message: str, **kwargs: Any) -> Diagnostic:
        where = self.locate(pointer)
        return Diagnostic(where.file, where.line, pointer, rule, message, **kwargs)

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


class _FileCache:
    """Each file parsed once, to plain data plus pointer → line (1-based)."""

    def __init__(self, root: Path):
        self.root = root
        self.data: dict[Path, Any] = {}
        self.lines: dict[Path, dict[str, int]] = {}

    def display(self, path: Path) -> str:
        return display_path(path, self.root)

    def load(self, path: Path, referrer: Location | None, pointer: str) -> Any:
        if path in self.data:
            return self.data[path]
        if not path.is_file():
            where = referrer or Location(self.display(path), 0)
            raise SpecError(
                [Diagnostic(where.file, where.line, pointer, "ref-resolves", f"file not found: {self.display(path)}")]
            )
        yaml = YAML(typ="rt")
        yaml.allow_duplicate_keys = False
        try:
            raw = yaml.load(path.read_text(encoding="utf-8"))
        except MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else 0
            problem = " ".join(p for p in (exc.context, exc.problem) if p)
            raise SpecError([Diagnostic(self.display(path), line, "", "yaml-syntax", problem or str(exc))]) from exc
        lines: dict[str, int] = {}
        self.data[path] = _plain(raw, "", lines, 1)
        self.lines[path] = lines
        return self.data[path]


def _plain(node: Any, pointer: str, lines: dict[str, int], line: int) -> Any:
    """ruamel's round-trip nodes → dicts/lists/scalars, recording the line of every node."""
    lines[pointer] = line
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        own_line = node.lc.line + 1 if hasattr(node, "lc") and node.lc.line is not None else line
        lines[pointer] = line or own_line
        for key in node:
            try:
                key_line = node.lc.key(key)[0] + 1
            except (KeyError, TypeError, AttributeError):
                key_line = own_line  # a key merged in with `<<`
            out[str(key)] = _plain(node[key], join_pointer(pointer, str(key)), lines, key_line)
        return out
    if isinstance(node, list):
        items = []
        for index, item in enumerate(node):
            try:
                item_line = node.lc.item(index)[0] + 1
            except (KeyError, TypeError, AttributeError, IndexError):
                item_line = line
            items.append(_plain(item, join_pointer(pointer, index), lines, item_line))
        return items
    if node is None or isinstance(node, (bool, int, float)):
        return node
    if hasattr(node, "isoformat"):  # YAML timestamps: keep the text an OpenAPI document means
        return node.isoformat()
    return str(node)


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
        self.source_map: dict[str, Location] = {}
        self.registry: dict[tuple[Path, str], str] = {}
        self.inlining: list[tuple[Path, str]] = []

    def split_ref(self, ref: str, base: Path) -> tuple[Path, str]:
        target, _, fragment = ref.partition("#")
        path = (base.parent / unquote(target)).resolve() if target else base
        return path, "/" + fragment.lstrip("/") if fragment.strip("/") else ""

    def register_components(self, document: dict[str, Any]) -> None:
        components = document.get("components") or {}
        for kind in COMPONENT_KINDS:
            for name, value in (components.get(kind) or {}).items():
                if isinstance(value, dict) and isinstance(value.get("$ref"), str) and not value["$ref"].startswith("#"):
                    key = self.split_ref(value["$ref"], self.root)
                    self.registry.setdefault(key, f"#/components/{kind}/{name}")

    def bundle(self) -> dict[str, Any]:
        document = self.files.load(self.root, None, "")
        if not isinstance(document, dict):
            raise SpecError([Diagnostic(self.files.display(self.root), 1, "", "document", "the root is not a mapping")])
        self.register_components(document)
        out: dict[str, Any] = self.node(document, self.root, "", "", defining=None)
        return out

    def node(self, value: Any, file: Path, file_ptr: str, out_ptr: str, defining: tuple[Path, str] | None) -> Any:
        line = self.files.lines[file].get(file_ptr, 0)
        self.source_map.setdefault(out_ptr, Location(self.files.display(file), line))
        if isinstance(value, list):
            return [
                self.node(item, file, join_pointer(file_ptr, i), join_pointer(out_ptr, i), None)
                for i, item in enumerate(value)
            ]
        if not isinstance(value, dict):
            return value
        ref = value.get("$ref")
        if isinstance(ref, str):
            siblings = {
                k: self.node(v, file, join_pointer(file_ptr, k), join_pointer(out_ptr, k), None)
                for k, v in value.items()
                if k != "$ref"
            }
            return self.reference(ref, file, file_ptr, out_ptr, defining, siblings)
        out = {
            key: self.node(item, file, join_pointer(file_ptr, key), join_pointer(out_ptr, key), self._defines(out_ptr, key))
            for key, item in value.items()
        }
        if split_pointer(out_ptr)[-1:] == ["discriminator"] and isinstance(out.get("mapping"), dict):
            out["mapping"] = {
                name: self.mapping_target(target, file, join_pointer(file_ptr, "mapping"), out_ptr)
                for name, target in out["mapping"].items()
            }
        return out

    def mapping_target(self, target: Any, file: Path, file_ptr: str, out_ptr: str) -> Any:
        """Discriminator mappings are references too, but cannot be inlined: they must name a component."""
        if not isinstance(target, str) or "#" not in target and "/" not in target:
            return target  # a bare schema name
        target_file, target_ptr = self.split_ref(target, file)
        here = Location(self.files.display(file), self.files.lines[file].get(file_ptr, 0))
        self.check_target(target_file, target_ptr, here, out_ptr, target)
        if target_file == self.root:
            return "#" + target_ptr
        if (target_file, target_ptr) in self.registry:
            return self.registry[(target_file, target_ptr)]
        raise SpecError(
            [Diagnostic(here.file, here.line, out_ptr, "ref-resolves", f"discriminator mapping {target!r} names no component")]
        )

    def _defines(self, out_ptr: str, key: str) -> tuple[Path, str] | None:
        """Under root `components/<kind>/<name>` the registered entry itself must be inlined, not pointed at."""
        tokens = split_pointer(out_ptr) + [key]
        if len(tokens) == 3 and tokens[0] == "components" and tokens[1] in COMPONENT_KINDS:
            return (self.root, "/".join(["", *tokens]))
        return None

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
        here = Location(self.files.display(file), self.files.lines[file].get(file_ptr, 0))
        if target_file == self.root:
            self.check_target(target_file, target_ptr, here, out_ptr, ref)
            return {"$ref": "#" + target_ptr, **siblings}
        registered = self.registry.get((target_file, target_ptr))
        if registered and defining is None:
            return {"$ref": registered, **siblings}
        key = (target_file, target_ptr)
        if key in self.inlining:
            raise SpecError(
                [
                    Diagnostic(
                        here.file,
                        here.line,
                        out_ptr,
                        "ref-resolves",
                        f"circular $ref {ref!r}: register its target under root components so it can be named",
                    )
                ]
            )
        target = self.check_target(target_file, target_ptr, here, out_ptr, ref)
        self.inlining.append(key)
        try:
            inlined = self.node(target, target_file, target_ptr, out_ptr, None)
        finally:
            self.inlining.pop()
        if isinstance(inlined, dict):
            return {**inlined, **siblings}
        return inlined

    def check_target(self, target_file: Path, target_ptr: str, here: Location, out_ptr: str, ref: str) -> Any:
        data = self.files.load(target_file, here, out_ptr)
        try:
            return _get(data, target_ptr)
        except (KeyError, IndexError, ValueError):
            raise SpecError(
                [Diagnostic(here.file, here.line, out_ptr, "ref-resolves", f"$ref {ref!r} does not resolve")]
            ) from None



def load_spec(path: str | Path) -> LoadedSpec:
    root = Path(path).resolve()
    bundler = _Bundler(root)
    document = bundler.bundle()
    files = tuple(sorted(bundler.files.data, key=lambda p: bundler.files.display(p)))
    return LoadedSpec(root=root, document=document, source_map=bundler.source_map, files=files)
