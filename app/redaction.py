"""Split a request body into what may be stored in clear and what is write-only, by walking the spec's schema."""

from __future__ import annotations

from typing import Any

from integrations.server import Problem


class SchemaWalker:
    def __init__(self, document: dict[str, Any]):
        self.document = document

    def deref(self, schema: Any) -> dict[str, Any]:
        seen: set[str] = set()
        while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and schema["$ref"] not in seen:
            seen.add(schema["$ref"])
            target: Any = self.document
            for token in schema["$ref"].lstrip("#/").split("/"):
                target = target.get(token.replace("~1", "/").replace("~0", "~"), {}) if isinstance(target, dict) else {}
            schema = target
        return schema if isinstance(schema, dict) else {}

    def required_on_write(self, schema: dict[str, Any], value: dict[str, Any]) -> list[str]:
        """`x-required-on-write` of the schema, its allOf parts and its discriminated arm (not of anyOf guesses)."""
        names = list(schema.get("x-required-on-write") or [])
        for part in schema.get("allOf") or []:
            names += self.required_on_write(self.deref(part), value)
        discriminator = schema.get("discriminator") or {}
        chosen = (discriminator.get("mapping") or {}).get(str(value.get(discriminator.get("propertyName", ""))))
        if chosen:
            names += self.required_on_write(self.deref({"$ref": chosen}), value)
        return names

    def branches(self, schema: dict[str, Any], value: dict[str, Any]) -> list[dict[str, Any]]:
        """The schema and the subschemas that describe this object: allOf parts and the matching oneOf/anyOf arms."""
        found = [schema]
        for part in schema.get("allOf") or []:
            found.extend(self.branches(self.deref(part), value))
        for key in ("oneOf", "anyOf"):
            arms = [self.deref(arm) for arm in schema.get(key) or []]
            discriminator = schema.get("discriminator") or {}
            chosen = (discriminator.get("mapping") or {}).get(str(value.get(discriminator.get("propertyName", ""))))
            if chosen:
                arms = [self.deref({"$ref": chosen})]
            for arm in arms:
                found.extend(self.branches(arm, value))
        return found

    def property_schema(self, schema: dict[str, Any], value: dict[str, Any], name: str) -> dict[str, Any] | None:
        for branch in self.branches(schema, value):
            properties = branch.get("properties") or {}
            if name in properties:
                return self.deref(properties[name]) | {
                    k: v for k, v in properties[name].items() if k in ("writeOnly", "readOnly")
                }
        for branch in self.branches(schema, value):
            extra = branch.get("additionalProperties")
            if isinstance(extra, dict):
                return self.deref(extra)
        return None

    def split(self, value: Any, schema: Any, pointer: str = "", *, writing: bool = True) -> tuple[Any, dict[str, Any]]:
        """(public value, {json pointer: write-only value}); when writing, `x-required-on-write` is enforced."""
        schema = self.deref(schema)
        secrets: dict[str, Any] = {}
        if isinstance(value, dict):
            missing = [name for name in self.required_on_write(schema, value) if name not in value] if writing else []
            if missing:
                raise Problem(400, "a write-only value is missing",
                              errors=[(f"{pointer}/{name}", "required when writing") for name in missing])
            public = {}
            for name, item in value.items():
                sub = self.property_schema(schema, value, name)
                here = f"{pointer}/{name.replace('~', '~0').replace('/', '~1')}"
                if sub is not None and sub.get("writeOnly"):
                    secrets[here] = item
                    continue
                public[name], nested = self.split(item, sub or {}, here, writing=writing)
                secrets.update(nested)
            return public, secrets
        if isinstance(value, list):
            items_schema = schema.get("items") or {}
            public_items = []
            for index, item in enumerate(value):
                public_item, nested = self.split(item, items_schema, f"{pointer}/{index}", writing=writing)
                public_items.append(public_item)
                secrets.update(nested)
            return public_items, secrets
        return value, secrets


def pointer_tokens(pointer: str) -> list[str]:
    """A JSON pointer's reference tokens, unescaped: `/a~1b/0` → ['a/b', '0']."""
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.lstrip("/").split("/")]


def merge(public: Any, secrets: dict[str, Any]) -> Any:
    """The full value again (for use inside the server, never for a response)."""
    import copy

    full = copy.deepcopy(public)
    for pointer, value in secrets.items():
        tokens = pointer_tokens(pointer)
        target = full
        for token in tokens[:-1]:
            target = target[int(token)] if isinstance(target, list) else target.setdefault(token, {})
        if isinstance(target, dict):
            target[tokens[-1]] = value
    return full
