from tests.cast import Cast


async def test_clerk_logs_in_and_sees_her_rooms(login, cast: Cast) -> None:
    wang = await login("wangfang")
    rooms = (await wang.http.get("/api/v1/rooms")).json()["rooms"]
    assert [room["name"] for room in rooms] == ["全公司", "城北营业厅"]
