"""A union with an OpenAPI discriminator, validated as the document means it.

The discriminator names the option to try first: a value whose tag the mapping names is that option's when that
option admits it. It is a hint, not a rule of JSON Schema, so a value with no tag, a tag the mapping does not name,
or one its option refuses is still whichever option admits it (oneOf/anyOf), the best fit winning. The options'
own models stay as the document writes them: a tag property of type string is any string, wherever it is used.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, ForwardRef

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler, ValidationError
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

_UNTAGGED = ("untagged",)  # the choice of a value whose tag names no option: never equal to a tag, a string
_RETRIED: ContextVar[object] = ContextVar("retried", default=None)  # the value tried again as untagged


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
        tagged = core_schema.tagged_union_schema(choices, self._choice, from_attributes=False)
        return core_schema.no_info_wrap_validator_function(self._validate, tagged)

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        """The union with the discriminator and its mapping, anyOf its options: a value may fit several (a subtype
        and its parent), the best fit winning."""
        choices = schema["schema"]["choices"]
        written = handler(choices[_UNTAGGED])
        options = written.get("anyOf", [written])
        mapping = {tag: handler(choice) for tag, choice in choices.items() if tag is not _UNTAGGED}
        discriminator = {"propertyName": self.property,
                         "mapping": {tag: s["$ref"] for tag, s in mapping.items() if "$ref" in s}}
        return {"anyOf": options, "discriminator": discriminator}

    def _choice(self, value: Any) -> Any:
        """The tag of a JSON object the mapping names; anything else (a model instance too) is untagged."""
        if value is _RETRIED.get():
            return _UNTAGGED
        tag = value.get(self.property) if isinstance(value, dict) else None
        return tag if isinstance(tag, str) and tag in self.tags else _UNTAGGED

    def _validate(self, value: Any, handler: core_schema.ValidatorFunctionWrapHandler) -> Any:
        """The tagged option's value; where it refuses, any option's; where none admits it, the tagged option's
        errors (or, untagged, that the tag names no option)."""
        try:
            return handler(value)
        except ValidationError as error:
            if self._choice(value) is not _UNTAGGED:
                refused = error
            else:
                raise self._untagged_error(value) from None
        retried = _RETRIED.set(value)
        try:
            return handler(value)
        except ValidationError:
            raise refused from None
        finally:
            _RETRIED.reset(retried)

    def _untagged_error(self, value: Any) -> PydanticCustomError:
        if not isinstance(value, dict):
            return PydanticCustomError("model_type", "Input should be an object")
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
