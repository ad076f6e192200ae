"""A union with an OpenAPI discriminator, validated as the document means it.

A value whose tag the mapping names (or, implicitly, an option's schema name) is that option's, as OpenAPI says: its
errors are that option's. A value with no tag, or one no option is named by, is whichever option admits it, the best
fit winning (for the allOf parent of subtypes, the parent itself). The options' own models stay as the document
writes them: a tag property of type string is any string, wherever the option is used.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ForwardRef

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler, ValidationError
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

_UNTAGGED = ("untagged",)  # the choice of a value whose tag names no option: never equal to a tag, a string


@dataclass(frozen=True, eq=False)  # hashed by identity: `tags` is a dict, and a union hashes its members
class Discriminated:
    """`Annotated[A | B, Discriminated("kind", {"a": A, "b": B})]`: the property holding the tag (its name in
    JSON), and each tag → the option of the union it names (a class, or its name where it is not defined yet)."""

    property: str
    tags: Mapping[str, Any]

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        options = _options(source)
        schemas: list[Any] = [handler.generate_schema(option) for option in options]
        choices: dict[Any, core_schema.CoreSchema] = {
            _UNTAGGED: core_schema.union_schema(schemas) if len(schemas) > 1 else schemas[0]}
        for tag, named in self.tags.items():
            index = next((i for i, option in enumerate(options) if _is(option, named)), None)
            if index is not None:
                choices[tag] = schemas[index]

        def choice(value: Any) -> Any:
            """The tag of a JSON object that names an option; anything else (a model instance too) is untagged."""
            tag = value.get(self.property) if isinstance(value, dict) else None
            return tag if isinstance(tag, str) and tag in choices else _UNTAGGED

        def validate(value: Any, validator: core_schema.ValidatorFunctionWrapHandler) -> Any:
            """The value as the option its tag names, else as any option; where none admits an untagged object,
            the error says what its tag should be."""
            try:
                return validator(value)
            except ValidationError:
                if isinstance(value, dict) and choice(value) is _UNTAGGED:
                    raise self._untagged_error(value) from None
                raise

        tagged = core_schema.tagged_union_schema(choices, choice, from_attributes=False)
        return core_schema.no_info_wrap_validator_function(validate, tagged)

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        """The union with the discriminator and its mapping, anyOf its options: a value may fit several (a subtype
        and its parent), the best fit winning."""
        tagged: Any = schema.get("schema") if schema["type"] == "function-wrap" else None
        if not tagged or tagged.get("type") != "tagged-union":  # not the schema made above: as pydantic writes it
            return handler(schema)
        choices = tagged["choices"]
        written = handler(choices[_UNTAGGED])
        options = written.get("anyOf", [written])
        mapping = {tag: handler(choice) for tag, choice in choices.items() if tag is not _UNTAGGED}
        discriminator = {"propertyName": self.property,
                         "mapping": {tag: s["$ref"] for tag, s in mapping.items() if "$ref" in s}}
        return {"anyOf": options, "discriminator": discriminator}

    def _untagged_error(self, value: dict[str, Any]) -> PydanticCustomError:
        if self.property not in value:
            return PydanticCustomError("union_tag_not_found", "Unable to extract tag using discriminator {property}",
                                       {"property": repr(self.property)})
        return PydanticCustomError("union_tag_invalid", "Input tag {tag} found using {property} does not match any "
                                   "of the expected tags: {expected}",
                                   {"tag": repr(value[self.property]), "property": repr(self.property),
                                    "expected": ", ".join(repr(tag) for tag in self.tags)})


def _options(source: Any) -> tuple[Any, ...]:
    if typing.get_origin(source) in (typing.Union, types.UnionType):
        return typing.get_args(source)
    return (source,)


def _is(option: Any, named: Any) -> bool:
    if option is named:
        return True
    name = option.__forward_arg__ if isinstance(option, ForwardRef) else getattr(option, "__name__", None)
    return isinstance(named, str) and name == named
