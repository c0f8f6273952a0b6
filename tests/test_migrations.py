"""The migrations build exactly the schema the models declare (so a model change without
its migration, or the other way round, fails here rather than in production)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from counterline.models import Base
from counterline.services import Services


async def test_the_migrated_database_has_no_difference_from_the_models(
    services: Services,
) -> None:
    async with services.database.engine.connect() as connection:
        differences = await connection.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata
            )
        )
    assert differences == []
