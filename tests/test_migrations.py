"""The migrations build exactly the schema the models declare (so a model change without
its migration, or the other way round, fails here rather than in production)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from counterline.models import Base
from counterline.search.models import INDEX_TABLES
from counterline.services import Services


async def test_the_migrated_database_has_no_difference_from_the_models(
    services: Services,
) -> None:
    async with services.database.engine.connect() as connection:
        differences = await connection.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(
                    sync, opts={"compare_type": True, "include_name": _modelled}
                ),
                Base.metadata,
            )
        )
    assert differences == []


def _modelled(name: str | None, type_: str, parent_names: object) -> bool:
    """The search index differs per database and has no model (migration 0008)."""
    return not (type_ == "table" and name in INDEX_TABLES)
