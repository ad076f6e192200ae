"""specgen conformance: prove a running server (a base URL, or an ASGI app in process) does what its spec says.
schemathesis sends generated valid and invalid requests to every operation and chains operations along the spec's
links; every response is also judged by openapi-core and searched for writeOnly values; every secured operation
must answer 401 to a request without credentials. Each failure carries a curl line that reproduces it."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from .diagnostics import follow_refs, join_pointer, not_required, split_pointer
from .lint import implied_objects, required_cycles


@dataclass
class Failure:
    check: str
    message: str
    reproduce: str  # a curl command


@dataclass
class Outcome:
    """One operation (or the stateful phase): how many requests were sent and what failed."""

    label: str
    cases: int = 0
    failures: list[Failure] = field(default_factory=list)
    skipped: str = ""  # why no request could be made (a schema no value satisfies)


@dataclass
class Report:
    outcomes: list[Outcome]
    notes: list[str] = field(default_factory=list)  # how the document was read, where it could be read two ways

    @property
    def failed(self) -> bool:
        return any(o.failures for o in self.outcomes)

    def lines(self) -> Iterator[str]:
        yield from self.notes
        for outcome in self.outcomes:
            mark = "FAIL" if outcome.failures else "skip" if outcome.skipped and not outcome.cases else "ok  "
            found = f", {len(outcome.failures)} failure(s)" if outcome.failures else ""
            why = f": {outcome.skipped}" if outcome.skipped else ""
            yield f"{mark} {outcome.label}  ({outcome.cases} request(s){found}){why}"
        for outcome in self.outcomes:
            for failure in outcome.failures:
                yield ""
                yield f"{outcome.label}: {failure.check}: {failure.message}"
                yield f"    {failure.reproduce}"
        cases = sum(o.cases for o in self.outcomes)
        failures = sum(len(o.failures) for o in self.outcomes)
        yield ""
        yield f"specgen conformance: {len(self.outcomes)} checked, {cases} request(s), {failures} failure(s)"

    def junit(self) -> str:
        suite = ElementTree.Element("testsuite", name="specgen conformance", tests=str(len(self.outcomes)),
                                    failures=str(sum(bool(o.failures) for o in self.outcomes)))
        for outcome in self.outcomes:
            case = ElementTree.SubElement(suite, "testcase", classname="conformance", name=outcome.label)
            if outcome.skipped and not outcome.cases:
                ElementTree.SubElement(case, "skipped", message=outcome.skipped)
            for failure in outcome.failures:
                node = ElementTree.SubElement(case, "failure", type=failure.check, message=failure.message[:500])
                node.text = f"{failure.message}\n\nReproduce with:\n    {failure.reproduce}\n"
        return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True)


class Judge:
    """openapi-core's verdict on a response, and the writeOnly values it carries, against one document."""

    def __init__(self, document: dict[str, Any]):
        self.document = document
        self._specs: dict[str, Any] = {}

    def problems(self, request: Any, response: Any) -> list[str]:
        """`request` a requests.PreparedRequest, `response` schemathesis' Response."""
        from openapi_core.contrib.requests import RequestsOpenAPIRequest

        wrapped = RequestsOpenAPIRequest(request)
        result = self._spec(wrapped.host_url).unmarshal_response(wrapped, _Response(response))
        found = [message for error in result.errors for message in _messages(error)]
        if found:
            return found
        schema = self.response_schema(request.method, wrapped.path, response.status_code)
        if schema is not None and "json" in _content_type(response):
            try:
                body = json.loads(response.content)
            except ValueError:
                return found
            found += [f"writeOnly {pointer or '/'} in the response" for pointer in self.write_only(body, schema)]
        return found

    def _spec(self, host_url: str) -> Any:
        if host_url not in self._specs:
            from openapi_core import Config, OpenAPI

            use_unicode_patterns()

            # Responses are judged by OpenAPI 3.0's reading of `required` beside writeOnly, in 3.1 documents too:
            # 3.1 dropped the sentence, which leaves a response no valid value where it must hold an object that
            # requires a writeOnly property (Train Travel's Card and its cvc), and JSON Schema lets the owner of a
            # writeOnly value leave it out when it is read.
            responses = not_required(self.document, "writeOnly")
            document = {**responses, "servers": [{"url": host_url}], "paths": {
                path: _without_servers(item) for path, item in (responses.get("paths") or {}).items()}}
            # the spec's own validity is lint's business: here its responses are judged as far as they can be
            config = Config(extra_media_type_deserializers={"application/problem+json": json.loads},
                            extra_format_validators={"time": _rfc3339_time}, spec_validator_cls=None)
            self._specs[host_url] = OpenAPI.from_dict(document, config=config)
        return self._specs[host_url]

    def response_schema(self, method: str, path: str, status: int) -> Any:
        paths = self.document.get("paths") or {}
        for template in sorted(paths, key=lambda p: ([s.startswith("{") for s in p.split("/")], p)):
            if _path_pattern(template).fullmatch(path):
                operation = (paths[template] or {}).get(method.lower()) or {}
                responses = operation.get("responses") or {}
                response = self.resolve(responses.get(str(status)) or responses.get(f"{str(status)[0]}XX")
                                        or responses.get("default") or {})
                content = response.get("content") or {}
                media = next((m for m in content if "json" in m), None)
                return (content[media] or {}).get("schema") if media else None
        return None

    def resolve(self, node: Any) -> dict[str, Any]:
        return follow_refs(self.document, node)

    def write_only(self, value: Any, schema: Any, pointer: str = "", depth: int = 0) -> Iterator[str]:
        """Pointers of the writeOnly properties present in `value`: every schema it may be (allOf, anyOf, oneOf
        members) is asked, so a property any of them marks writeOnly is found."""
        if depth > 64:
            return
        schemas = list(self._alternatives(schema, 0))
        if isinstance(value, dict):
            for name, item in value.items():
                members = [self.resolve((s.get("properties") or {}).get(name)) for s in schemas]
                members = [m for m in members if m]
                if any(m.get("writeOnly") for m in members):
                    yield join_pointer(pointer, name)
                for member in members:
                    yield from self.write_only(item, member, join_pointer(pointer, name), depth + 1)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                for s in schemas:
                    if isinstance(s.get("items"), dict):
                        yield from self.write_only(item, s["items"], join_pointer(pointer, index), depth + 1)

    def _alternatives(self, schema: Any, depth: int) -> Iterator[dict[str, Any]]:
        schema = self.resolve(schema)
        yield schema
        if depth < 16:
            for keyword in ("allOf", "anyOf", "oneOf"):
                for member in schema.get(keyword) or []:
                    yield from self._alternatives(member, depth + 1)


def _without_servers(item: Any) -> Any:
    """A path item whose own and whose operations' `servers` are gone: every request here goes to one host."""
    if not isinstance(item, dict):
        return item
    return {key: ({k: v for k, v in value.items() if k != "servers"} if isinstance(value, dict) else value)
            for key, value in item.items() if key != "servers"}


def _rfc3339_time(value: Any) -> bool:
    """RFC 3339's full-time (`03:04:05Z`), which JSON Schema's `time` is; openapi-schema-validator checks only
    `HH:MM:SS` without an offset."""
    import re

    return not isinstance(value, str) or re.fullmatch(r"\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)", value) is not None


def _messages(error: BaseException) -> list[str]:
    """openapi-core's error as short lines: each schema error with the pointer into the body it is at."""
    schema_errors = getattr(error.__cause__, "schema_errors", None)
    if not schema_errors:
        return [" ".join(str(error).split())[:300]]
    return [f"{' '.join(str(e.message).split())[:200]} at /{'/'.join(str(p) for p in e.absolute_path)}"
            for e in schema_errors]


def use_unicode_patterns() -> None:
    """Make openapi-schema-validator read patterns as JSON Schema does (ECMA-262 in unicode mode)."""
    import openapi_schema_validator._regex as ecma

    ecma._REGEX_CLASS = _UnicodeRegex


class _UnicodeRegex:
    """JSON Schema patterns are ECMA-262 in unicode mode (`\\p{L}`); openapi-schema-validator compiles them with
    regress but without the `u` flag, which reads `\\p{L}` as the letters "p{L}"."""

    def __new__(cls, pattern: str) -> Any:
        import regress

        return regress.Regex(pattern, flags="u")


class _Response:
    """schemathesis' response as openapi-core reads one."""

    def __init__(self, response: Any):
        self.response = response

    @property
    def data(self) -> bytes:
        return bytes(self.response.content or b"")

    @property
    def status_code(self) -> int:
        return int(self.response.status_code)

    @property
    def content_type(self) -> str:
        return _content_type(self.response)

    @property
    def headers(self) -> Any:
        from werkzeug.datastructures import Headers

        return Headers([(k, v) for k, values in self.response.headers.items() for v in values])


def _content_type(response: Any) -> str:
    values = response.headers.get("content-type") or [""]
    return str(values[0] if isinstance(values, list) else values).lower()


def run(
    document: dict[str, Any],
    *,
    base_url: str | None = None,
    app: Any = None,
    headers: dict[str, str] | None = None,
    key: str | None = None,
    headers_for: Callable[[Any], dict[str, str]] | None = None,
    before_call: Callable[[Any], None] | None = None,
    examples: int = 10,
    stateful: int = 10,
    reset: Callable[[], None] | None = None,
    paths: str | None = None,
    negative: bool = True,
    config: dict[str, Any] | None = None,
    derandomize: bool = True,
) -> Report:
    """Every operation of `document` against the server; `headers` (or `headers_for(case)`) carry the
    credentials, or `key` fills every security scheme of the document (header, query or cookie); `before_call(case)`
    may adjust a generated case (a tenant id in its path) before it is sent; `reset()` runs after each stateful
    chain, so that each starts from the same state; `paths` (a regex) limits the run to the paths it finds;
    `negative` adds invalid cases, which must get a documented 4xx (a spec documenting no 400 fails them).
    `config` is schemathesis' (expected statuses and the like)."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.config import SchemathesisConfig
    from schemathesis.core.result import Ok

    document, notes = _objects_as_modelled(document)
    document, more = _arrays_as_json(document)
    notes += more
    # No NUL in generated strings: generated servers refuse it (Limits.reject_nul), as most storage does.
    settings_of_run = {"generation": {"allow-x00": False}, **(config or {})}
    schema = schemathesis.openapi.from_dict(document, config=SchemathesisConfig.from_dict(settings_of_run))
    if app is not None:
        schema.app = app
        base_url = base_url or "http://localhost"  # a generated app routes the spec's paths at its root
    judge = Judge(document)
    chosen = (lambda case: dict(headers or {})) if headers_for is None else headers_for

    def credentials(case: Any) -> dict[str, str]:
        """The headers to send; with `key`, what the operation's first security requirement asks for."""
        if key is None:
            return chosen(case)
        fixed, query, cookies = credentials_for(document, key, _first_requirement(document, case.operation))
        if query:
            case.query = {**(case.query or {}), **query}
        if cookies:
            case.cookies = {**(case.cookies or {}), **cookies}
        return {**fixed, **chosen(case)}

    shown_url = base_url or "http://localhost"

    def judged(ctx: Any, response: Any, case: Any) -> bool | None:
        problems = judge.problems(response.request, response)
        if problems:
            raise AssertionError("; ".join(problems[:3]))
        return None

    hypothesis_settings = settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck),
                                   derandomize=derandomize, database=None)
    outcomes = []
    impossible = set(required_cycles(document))
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):  # an operation schemathesis cannot read: named, not tested
            error = result.err()
            outcomes.append(Outcome(str(getattr(error, "path", None) or "an operation"),
                                    skipped=" ".join(str(error).split())[:300]))
            continue
        operation = result.ok()
        if paths and not re.search(paths, operation.path):
            continue
        outcome = Outcome(f"{operation.method.upper()} {operation.path}")
        outcomes.append(outcome)
        if _documents_only_informational(operation):
            outcome.skipped = "documents only 1xx responses, and a 1xx is never a final answer: nothing can conform"
            continue
        if answers_only_impossible_values(document, operation.definition.raw.get("responses"), impossible):
            outcome.skipped = ("every response it documents is a value no finite JSON is (lint: required-cycle): "
                               "nothing can conform")
            continue

        strategy = _strategy(operation, negative)
        certified = _certificate_suffices(document, operation)
        exercise = _exercise(operation, outcome, lambda test: hypothesis_settings(given(case=strategy)(test)),
                             base_url, shown_url, credentials, before_call, judged,
                             _documents_success(operation), certified)
        try:
            exercise()
        except Exception as exc:  # noqa: BLE001 - a schema no value satisfies: the operation cannot be tested
            outcome.skipped = " ".join(str(exc).split())[:300]
        outcome.failures = _distinct(outcome.failures)
        if _secured(document, operation) and certified:
            outcomes.append(Outcome(f"{outcome.label} without credentials", skipped=(
                "a client certificate (mutualTLS) alone may call it, and that is the TLS layer's: an HTTP request "
                "cannot leave it out")))
        elif _secured(document, operation):
            outcomes.append(_unauthenticated(operation, base_url, shown_url, before_call))
    if stateful and not paths and any(link for link in _links(document)):
        outcomes.append(_stateful(schema, base_url, shown_url, credentials, before_call, judged, stateful,
                                  derandomize, reset))
    return Report(outcomes, notes)


def _arrays_as_json(document: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """`document` with each parameter that is an array no OpenAPI style writes (of objects or arrays) given as
    JSON content, which is how the generated client writes it and its server reads it; and a note naming them."""
    from .build_ir import wire_reader

    copied, named = copy.deepcopy(document), []
    for path, item in (copied.get("paths") or {}).items():
        holders = [item, *(op for key, op in (item or {}).items() if key != "parameters" and isinstance(op, dict))]
        for holder in holders:
            for index, raw in enumerate(holder.get("parameters") or []):
                param = follow_refs(copied, raw)
                types = follow_refs(copied, param.get("schema")).get("type")
                if param.get("in") in ("query", "header", "cookie") and "content" not in param and \
                        "array" in (types if isinstance(types, list) else [types]) and \
                        wire_reader(param, lambda node: follow_refs(copied, node)) == "json_value":
                    kept = {k: v for k, v in param.items() if k not in ("schema", "style", "explode")}
                    holder["parameters"][index] = {**kept, "content": {"application/json": {"schema": param["schema"]}}}
                    named.append(f"{param['in']} {param['name']} of {path}")
    if not named:
        return document, []
    return copied, [f"sent as JSON, as the generated client writes them (no OpenAPI style does): {', '.join(named)}"]


def _objects_as_modelled(document: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """`document` with `type: object` where it writes `properties` without a type, as the generated models (and
    lint's warning) read it, rather than admitting every value that is not an object; and a note naming them."""
    implied = implied_objects(document)
    if not implied:
        return document, []
    copied = copy.deepcopy(document)
    for pointer in implied:
        node: Any = copied
        for token in split_pointer(pointer):
            node = node[int(token)] if isinstance(node, list) else node[token]
        node["type"] = "object"
    shown = ", ".join(implied[:5]) + (f" and {len(implied) - 5} more" if len(implied) > 5 else "")
    return copied, [f"read as objects, as the generated models read them (lint: object-type-implied): {shown}"]


def _strategy(operation: Any, negative: bool) -> Any:
    """Valid cases (schema-valid data must be accepted) and, with `negative`, invalid ones (refused with a 4xx)."""
    from hypothesis import strategies as st
    from schemathesis.generation.modes import GenerationMode

    positive = operation.as_strategy(GenerationMode.POSITIVE)
    if not negative:
        return positive
    try:
        return st.one_of(positive, operation.as_strategy(GenerationMode.NEGATIVE))
    except Exception:  # noqa: BLE001 - nothing to make invalid (no parameters, no body): valid cases only
        return positive


def _exercise(operation: Any, outcome: Outcome, hypothesis: Callable[[Callable[..., None]], Callable[[], None]],
              base_url: str | None, shown_url: str, credentials: Callable[[Any], dict[str, str]],
              before_call: Callable[[Any], None] | None, judged: Callable[..., Any],
              succeeds: bool, certified: bool) -> Callable[[], None]:
    """The hypothesis test of one operation: each generated case sent and judged, each failure recorded. An
    operation that documents no success is not expected to accept valid data; one a client certificate alone may
    call (`certified`), not to refuse a request without credentials."""
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

    # an operation that documents no success is not expected to accept valid data, nor, when all it documents
    # are server errors, to answer anything else
    excluded = ([] if succeeds else [positive_data_acceptance] + (
        [not_a_server_error] if _documents_only_server_errors(operation) else [])) + ([ignored_auth] if certified else [])
    # an operation that documents no response at all (OpenAPI 3.1 allows it): only "no 5xx" can be asked of it
    only: dict[str, Any] = {} if _documents_responses(operation) else {"checks": [not_a_server_error]}

    def exercise(case: Any) -> None:
        if before_call:
            before_call(case)
        outcome.cases += 1
        sent = credentials(case)
        response = None
        try:
            response = case.call(base_url=base_url, headers=sent)
            if only:
                case.validate_response(response, headers=sent, **only)
            else:
                case.validate_response(response, additional_checks=[judged], excluded_checks=excluded, headers=sent)
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - every failure is recorded, the run goes on
            _record(outcome, exc, case.as_curl_command(headers=sent, base_url=shown_url), response)

    return hypothesis(exercise)


def _requirements(document: dict[str, Any], operation: Any) -> list[dict[str, Any]]:
    """The operation's security alternatives: its own, else the document's."""
    raw = operation.definition.raw
    return [r for r in raw.get("security", document.get("security")) or [] if isinstance(r, dict)]


def _first_requirement(document: dict[str, Any], operation: Any) -> list[str]:
    requirements = _requirements(document, operation)
    return list(requirements[0]) if requirements else []


def credentials_for(document: dict[str, Any], key: str,
                    schemes: list[str] | None = None) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Headers, query and cookie values that present `key` under the named security schemes (all by default): an
    API key where its scheme says, `Bearer key` (or `Basic key`, as the scheme names it) in Authorization."""
    headers: dict[str, str] = {}
    query: dict[str, str] = {}
    cookies: dict[str, str] = {}
    for name, scheme in ((document.get("components") or {}).get("securitySchemes") or {}).items():
        if not isinstance(scheme, dict) or (schemes is not None and name not in schemes) or \
                scheme.get("type") == "mutualTLS":  # the TLS layer's
            continue
        if scheme.get("type") == "apiKey" and isinstance(scheme.get("name"), str):
            {"query": query, "cookie": cookies}.get(str(scheme.get("in")), headers)[scheme["name"]] = key
        elif "Authorization" not in headers:
            kind = str(scheme.get("scheme") or "bearer") if scheme.get("type") == "http" else "bearer"
            headers["Authorization"] = f"{kind.capitalize()} {key}"
    return headers, query, cookies


def _record(outcome: Outcome, exc: BaseException, reproduce: str, response: Any = None) -> None:
    failures = getattr(exc, "exceptions", None) or [exc]
    answered = ""
    if response is not None:
        body = bytes(response.content or b"")[:300].decode("utf-8", "replace")
        answered = f" (answered {response.status_code}: {' '.join(body.split())})"
    for failure in failures:
        title = getattr(failure, "title", None) or type(failure).__name__
        message = " ".join(str(getattr(failure, "message", None) or failure).split())
        outcome.failures.append(Failure(str(title), message[:400] + answered, reproduce))


def _distinct(failures: list[Failure]) -> list[Failure]:
    """One failure per check and message: the smallest case hypothesis found for it was recorded last."""
    kept: dict[tuple[str, str], Failure] = {}
    for failure in failures:
        kept[(failure.check, failure.message)] = failure
    return list(kept.values())


def _documents_only_server_errors(operation: Any) -> bool:
    statuses = [str(s) for s in operation.definition.raw.get("responses") or {}]
    return bool(statuses) and all(s[0] == "5" for s in statuses)


def _documents_only_informational(operation: Any) -> bool:
    statuses = [str(s) for s in operation.definition.raw.get("responses") or {}]
    return bool(statuses) and all(s[0] == "1" for s in statuses)


def answers_only_impossible_values(document: dict[str, Any], responses: dict[str, Any], impossible: set[str]) -> bool:
    """Every response documented (`responses` of an operation) has a body, and each of its media types is a
    component no finite value is (`impossible`: `lint.required_cycles`)."""
    responses = [follow_refs(document, r) for r in (responses or {}).values()]
    media = [m for r in responses for m in (r.get("content") or {}).values()]
    return bool(responses) and all(r.get("content") for r in responses) and all(
        isinstance(m, dict) and str((m.get("schema") or {}).get("$ref", "")).removeprefix("#/components/schemas/")
        in impossible for m in media)


def _documents_responses(operation: Any) -> bool:
    return bool(operation.definition.raw.get("responses"))


def _documents_success(operation: Any) -> bool:
    return any(str(s)[0] == "2" or str(s) == "default" for s in operation.definition.raw.get("responses") or {})


def _secured(document: dict[str, Any], operation: Any) -> bool:
    requirements = _requirements(document, operation)
    return bool(requirements) and all(requirement for requirement in requirements)


def _certificate_suffices(document: dict[str, Any], operation: Any) -> bool:
    """Whether one of the operation's security alternatives asks for client certificates (mutualTLS) only."""
    schemes = (document.get("components") or {}).get("securitySchemes") or {}
    return any(requirement and all(follow_refs(document, schemes.get(name)).get("type") == "mutualTLS"
                                   for name in requirement) for requirement in _requirements(document, operation))


def _unauthenticated(operation: Any, base_url: str | None, shown_url: str,
                     before_call: Callable[[Any], None] | None) -> Outcome:
    """A request with no credentials at all must be refused with 401, whatever else is wrong with it."""
    from .mock import synthesize

    outcome = Outcome(f"{operation.method.upper()} {operation.path} without credentials", cases=1)
    path_parameters = {p.name: synthesize(p.definition.get("schema") or {}, operation.schema.raw_schema)
                       for p in operation.path_parameters}
    try:
        case = operation.Case(path_parameters=path_parameters)
        if before_call:
            before_call(case)
        response = case.call(base_url=base_url)
    except Exception as exc:  # noqa: BLE001 - a request schemathesis cannot build (a repeated path name)
        outcome.cases, outcome.skipped = 0, " ".join(str(exc).split())[:300]
        return outcome
    if response.status_code != 401:
        outcome.failures.append(Failure("unauthenticated", f"answered {response.status_code}, not 401",
                                        case.as_curl_command(base_url=shown_url)))
    return outcome


def _links(document: dict[str, Any]) -> Iterator[Any]:
    for item in (document.get("paths") or {}).values():
        for operation in (item or {}).values():
            if isinstance(operation, dict):
                for response in (operation.get("responses") or {}).values():
                    if isinstance(response, dict):
                        yield from (response.get("links") or {}).values()


def _stateful(schema: Any, base_url: str | None, shown_url: str, credentials: Callable[[Any], dict[str, str]],
              before_call: Callable[[Any], None] | None, judged: Callable[..., Any], examples: int,
              derandomize: bool, reset: Callable[[], None] | None) -> Outcome:
    """Chains of operations along the spec's links (create → read → update → delete)."""
    from hypothesis import HealthCheck, settings
    from hypothesis.stateful import run_state_machine_as_test

    outcome = Outcome("stateful: operations chained along links")
    last: dict[str, str] = {}

    class Workflows(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: Any) -> None:
            if before_call:
                before_call(case)
            outcome.cases += 1
            last["curl"] = case.as_curl_command(headers=credentials(case), base_url=shown_url)

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"base_url": base_url, "headers": credentials(case)}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(response, additional_checks=[judged], headers=credentials(case))

        def teardown(self) -> None:
            if reset:
                reset()

    try:
        run_state_machine_as_test(Workflows, settings=settings(
            max_examples=examples, stateful_step_count=6, deadline=None, suppress_health_check=list(HealthCheck),
            derandomize=derandomize, database=None))
    except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - the failing chain, with its last request
        _record(outcome, exc, last.get("curl", "(no request)"))
    return outcome


def load_app(target: str) -> Any:
    """`module:attribute` (an ASGI app) or `module:factory()` (called for one), importable from here."""
    import importlib
    import sys

    module_name, _, attribute = target.partition(":")
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    name = attribute or "app"
    found = getattr(importlib.import_module(module_name), name.removesuffix("()"))
    return found() if name.endswith("()") else found


def _path_pattern(template: str) -> re.Pattern[str]:
    """The paths a template matches, each `{parameter}` one segment (a name may repeat: `/a/{id}/b/{id}`)."""
    return re.compile("".join("[^/]+" if part.startswith("{") else re.escape(part)
                              for part in re.split(r"(\{[^}/]*\})", template)))
