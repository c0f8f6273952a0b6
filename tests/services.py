"""Is a backing service reachable? Used by scripts/test and by the fixtures.

python -m tests.services postgres URL   -> exit 0 when reachable
python -m tests.services redis URL
"""

from __future__ import annotations

import asyncio
import sys


async def postgres_reachable(url: str) -> bool:
    import asyncpg

    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    try:
        connection = await asyncio.wait_for(asyncpg.connect(dsn), timeout=3)
    except Exception:
        return False
    await connection.close()
    return True


async def redis_reachable(url: str) -> bool:
    from redis import asyncio as aioredis

    client = aioredis.from_url(url, socket_connect_timeout=2)
    try:
        return bool(await client.ping())
    except Exception:
        return False
    finally:
        await client.aclose()


def main() -> int:
    kind, url = sys.argv[1], sys.argv[2]
    check = postgres_reachable if kind == "postgres" else redis_reachable
    return 0 if asyncio.run(check(url)) else 1


if __name__ == "__main__":
    sys.exit(main())
