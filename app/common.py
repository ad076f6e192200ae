"""Small helpers every handler module uses."""

from __future__ import annotations

import base64
from typing import Any

from functools import cache

from pydantic import BaseModel, TypeAdapter

from integrations.server import Principal, Problem


def tenant_of(principal: Principal | None, path_tenant: str | None = None) -> str:
    """The caller's tenant; another tenant's path answers 404, as if it did not exist."""
    if principal is None:
        raise Problem(401, "Missing or invalid credentials.")
    if path_tenant is not None and path_tenant != principal.tenant:
        raise Problem(404, "The requested resource was not found.")
    return principal.tenant


@cache
def _adapter(annotation: Any) -> TypeAdapter[Any]:
    return TypeAdapter(annotation)


def validate(annotation: Any, data: Any) -> Any:
    """Build a response value of any generated type, class or type alias (unions, lists, maps)."""
    return _adapter(annotation).validate_python(data)


def as_json(model: BaseModel | None) -> dict[str, Any]:
    if model is None:
        return {}
    dumped: dict[str, Any] = model.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return dumped


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, number = text.partition(":")
        if kind != "o" or not number.isdigit():
            raise ValueError(cursor)
        return int(number)
    except ValueError:
        raise Problem(400, "invalid cursor", errors=[("#query/after", "not a cursor this API issued")]) from None


def cursor_window(first: int | None, after: str | None, before: str | None) -> tuple[int, int]:
    """(offset, limit) for `first`/`after`/`before` paging."""
    size = first or 20
    if after:
        return decode_cursor(after), size
    if before:
        end = decode_cursor(before)
        return max(0, end - size), min(size, end)
    return 0, size


def cursor_page(offset: int, count: int, total: int) -> dict[str, Any]:
    page: dict[str, Any] = {"totalCount": total}
    if offset + count < total:
        page["next"] = encode_cursor(offset + count)
    if offset > 0:
        page["prev"] = encode_cursor(offset)
    return page
