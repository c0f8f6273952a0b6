"""Every page of the admin console starts from the same context (admin/console.py
``console_context``): who is signed in in the top bar, its own section marked in the
console's navigation, and the session's token in its forms."""

from __future__ import annotations

import re

import pytest

from tests.cast import Cast
from tests.support.clients import Client
from tests.test_admin_console import make_room

EN = {"Accept-Language": "en"}
NAV = re.compile(r'<nav class="console-nav".*?</nav>', re.S)
CURRENT = re.compile(r'href="([^"]+)" aria-current="page"')


@pytest.mark.parametrize(
    ("path", "section"),
    [
        ("/admin", None),
        ("/admin/users", "/admin/users"),
        ("/admin/users/import", "/admin/users"),
        ("/admin/branches", "/admin/branches"),
        ("/admin/rooms/{company_room_id}", "/admin/branches"),
        ("/admin/settings", "/admin/settings"),
        ("/admin/integrations", "/admin/integrations"),
        ("/admin/audit", "/admin/audit"),
    ],
)
async def test_a_console_page_shows_who_is_signed_in_and_marks_its_own_section(
    login, cast: Cast, path: str, section: str | None
) -> None:
    admin: Client = await login("chengang")
    page = await admin.http.get(path.format(company_room_id=cast.company_room_id), headers=EN)
    assert page.status_code == 200, page.text
    assert '<span class="whoami">陈刚</span>' in page.text
    nav = NAV.search(page.text)
    assert nav is not None
    assert CURRENT.findall(nav.group(0)) == ([section] if section else [])


@pytest.mark.parametrize("path", ["/admin/branches", "/admin/rooms/{room}", "/admin/settings"])
async def test_a_console_form_carries_the_sessions_token(login, path: str) -> None:
    admin: Client = await login("chengang")
    room = await make_room(admin, "营业厅培训")  # a topic room: its members page has forms
    page = await admin.http.get(path.format(room=room["id"]), headers=EN)
    assert page.status_code == 200, page.text
    tokens = set(re.findall(r'name="csrf_token" value="([^"]*)"', page.text))
    assert tokens == {admin.csrf_token}
