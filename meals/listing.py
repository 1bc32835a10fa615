"""Lists with filters, paging and totals, on advanced-alchemy's repository services.

Every console list (sites, seniors, accounts, dishes, vans, the audit log) is one call here, so
paging and counting behave the same everywhere and no area writes its own COUNT query.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, TypeVar

from advanced_alchemy.filters import LimitOffset, StatementFilter
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import OffsetPagination, SQLAlchemyAsyncRepositoryService
from sqlalchemy import ColumnElement, Select
from sqlalchemy.ext.asyncio import AsyncSession

ModelT = TypeVar("ModelT")
SchemaT = TypeVar("SchemaT")
DEFAULT_PAGE = 50


@cache
def repository_service(model: type) -> type[SQLAlchemyAsyncRepositoryService]:
    """The advanced-alchemy service class for `model` (one per model, made once)."""
    repository = type(
        f"{model.__name__}Repository", (SQLAlchemyAsyncRepository,), {"model_type": model}
    )
    return type(
        f"{model.__name__}Service",
        (SQLAlchemyAsyncRepositoryService,),
        {"repository_type": repository},
    )


async def page_of(
    session: AsyncSession,
    model: type[ModelT],
    *filters: StatementFilter | ColumnElement[bool],
    limit: int = DEFAULT_PAGE,
    offset: int = 0,
    order_by: Any = None,
    statement: Select | None = None,
) -> OffsetPagination[ModelT]:
    """One page of `model` rows matching `filters`, with the total over all pages."""
    service = repository_service(model)(session=session)
    paging = LimitOffset(limit=limit, offset=offset)
    items, total = await service.get_many_and_count(
        *filters, paging, order_by=order_by, statement=statement, uniquify=True
    )
    return OffsetPagination(items=list(items), limit=limit, offset=offset, total=total)


def page_as(
    page: OffsetPagination[Any], convert: Any, items: Sequence[Any] | None = None
) -> OffsetPagination[Any]:
    """The same page with each row turned into its API view by `convert`."""
    rows = page.items if items is None else items
    return OffsetPagination(
        items=[convert(row) for row in rows], limit=page.limit, offset=page.offset, total=page.total
    )
