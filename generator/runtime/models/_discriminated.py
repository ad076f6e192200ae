"""A union with an OpenAPI discriminator, validated as the document means it.

A value whose tag the mapping names (or, implicitly, an option's schema name) is that option's, as OpenAPI says: its
errors are that option's. A value whose tag names no option is refused at once, unless the union is the allOf parent
of subtypes (a value that is just the parent) or has options no tag can name (inline schemas). A value without the tag
is whichever option that does not require it admits (the parent, where there is one). A value with a tag is never
tried against every option in turn, which on a recursive union would take exponential time.
The options' own models stay as the document writes them: a tag property of type string is any string, wherever the
option is used. Written out, a value carries its option's tag, whether or not its model declares the property.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ForwardRef

from pydantic import BaseModel, GetCoreSchemaHandler, GetJsonSchemaHandler, SerializationInfo
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

_UNNAMED = ("unnamed",)  # the choice of a value whose tag names no option: never equal to a tag, a string
_TAGLESS = ("tagless",)  # the choice of an object without the tag
_OTHER = ("other",)  # the choice of a model instance


@dataclass(frozen=True, eq=False)  # hashed by identity: `tags` is a dict, and a union hashes its members
class Discriminated:
    """`Annotated[A | B, Discriminated("kind", {"a": A, "b": B}, tagless=(B,))]`: the property holding the tag (its
    name in JSON); each tag → the option of the union it names (a class, or its name where it is not defined yet);
    the options an object without the tag may be (those that do not require it; of an allOf parent's subtypes, the
    parent alone); and the options an object whose tag names none may be (the allOf parent of subtypes, and options
    no tag can name: inline schemas)."""

    property: str
    tags: Mapping[str, Any]
    tagless: tuple[Any, ...] = ()
    unnamed: tuple[Any, ...] = ()

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        options = _options(source)
        schemas: list[Any] = [handler.generate_schema(option) for option in options]

        def union(named: list[Any]) -> core_schema.CoreSchema:
            chosen = [s for option, s in zip(options, schemas) if any(_is(option, n) for n in named)]
            return core_schema.union_schema(chosen) if len(chosen) > 1 else chosen[0]

        choices: dict[Any, core_schema.CoreSchema] = {_OTHER: union(list(options))}
        for tag, named in self.tags.items():
            if any(_is(option, named) for option in options):
                choices[tag] = union([named])
        if any(_is(option, n) for option in options for n in self.tagless):
            choices[_TAGLESS] = union(list(self.tagless))
        if any(_is(option, n) for option in options for n in self.unnamed):
            choices[_UNNAMED] = union(list(self.unnamed))

        def choice(value: Any) -> Any:
            """The option a JSON object's tag names, else what an object without a tag or with an unnamed one may be,
            None (refused by `tag_error`) where it may be nothing; a model instance, any option."""
            if not isinstance(value, dict):
                return _OTHER
            if self.property not in value:
                return _TAGLESS if _TAGLESS in choices else None
            tag = value[self.property]
            if isinstance(tag, str) and tag in choices:
                return tag
            return _UNNAMED if _UNNAMED in choices else None

        def tag_error(value: Any) -> PydanticCustomError:
            if self.property not in value:
                return PydanticCustomError("union_tag_not_found", "Unable to extract tag using discriminator "
                                           "{property}", {"property": repr(self.property)})
            return PydanticCustomError("union_tag_invalid", "Input tag {tag} found using {property} does not match "
                                       "any of the expected tags: {expected}",
                                       {"tag": repr(value[self.property]), "property": repr(self.property),
                                        "expected": ", ".join(repr(tag) for tag in self.tags)})

        def validate(value: Any, validator: core_schema.ValidatorFunctionWrapHandler) -> Any:
            if not isinstance(value, (dict, BaseModel)):
                raise PydanticCustomError("dict_type", "Input should be an object")
            if choice(value) is None:
                raise tag_error(value)
            return validator(value)

        written = {_class_name(named): tag for tag, named in reversed(list(self.tags.items()))}  # the first tag

        def serialize(value: Any, serializer: core_schema.SerializerFunctionWrapHandler,
                      info: SerializationInfo) -> Any:
            """The value as its option writes it, with its tag where the option does not write one (it has no such
            property, or it is unset) and may carry it."""
            data = serializer(value)
            if not isinstance(data, dict) or not isinstance(value, BaseModel) or type(value).__name__ not in written:
                return data
            fields = type(value).model_fields
            key = next((name if not info.by_alias else field.alias or name for name, field in fields.items()
                        if self.property in (name, field.alias)), None)
            if key is None and type(value).model_config.get("extra") == "forbid":
                return data  # the option refuses the property: it cannot say which it is
            key = key or self.property
            return data if key in data else {**data, key: written[type(value).__name__]}

        tagged = core_schema.tagged_union_schema(choices, choice, from_attributes=False)
        return core_schema.no_info_wrap_validator_function(
            validate, tagged, serialization=core_schema.wrap_serializer_function_ser_schema(
                serialize, info_arg=True, schema=tagged))

    def options_for(self, options: tuple[Any, ...], fields: Mapping[str, Any]) -> list[Any]:
        """The options a form's fields (strings, or lists of them when repeated) may be read as, in order: the
        one their tag names; without the tag, those that do not require it; with a tag that names none, those
        no tag can name."""
        tag = fields.get(self.property)
        tag = tag[-1] if isinstance(tag, list) and tag else tag
        if self.property not in fields:
            named: tuple[Any, ...] = self.tagless
        elif isinstance(tag, str) and tag in self.tags:
            named = (self.tags[tag],)
        else:
            named = self.unnamed
        return [option for option in options if any(_is(option, n) for n in named)]

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        """The union with the discriminator and its mapping, anyOf its options: a value may fit several (a subtype
        and its parent)."""
        tagged: Any = schema.get("schema") if schema["type"] == "function-wrap" else None
        if not tagged or tagged.get("type") != "tagged-union":  # not the schema made above: as pydantic writes it
            return handler(schema)
        choices = tagged["choices"]
        written = handler(choices[_OTHER])
        options = written.get("anyOf", [written])
        mapping = {tag: handler(choice) for tag, choice in choices.items() if isinstance(tag, str)}
        discriminator = {"propertyName": self.property,
                         "mapping": {tag: s["$ref"] for tag, s in mapping.items() if "$ref" in s}}
        return {"anyOf": options, "discriminator": discriminator}


def _options(source: Any) -> tuple[Any, ...]:
    if typing.get_origin(source) in (typing.Union, types.UnionType):
        return typing.get_args(source)
    return (source,)


def _class_name(option: Any) -> str | None:
    if isinstance(option, str):
        return option
    return option.__forward_arg__ if isinstance(option, ForwardRef) else getattr(option, "__name__", None)


def _is(option: Any, named: Any) -> bool:
    return option is named or (isinstance(named, str) and _class_name(option) == named)
