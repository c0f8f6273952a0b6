"""The business-terms page (/search/terms): trainers and administrators keep the search
dictionary with plain forms, on the record; everyone else is refused."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from counterline.audit.models import AuditEntry
from counterline.services import Services
from tests.support.clients import Client

PAGE = "/search/terms"


def listed_terms(html: str) -> list[str]:
    return re.findall(r'<span class="term-word" lang="zh-CN">([^<]*)</span>', html)


async def add(client: Client, term: str, **extra: str) -> object:
    data = {"term": term, "csrf_token": client.csrf_token, **extra}
    return await client.http.post(PAGE, data=data)


async def test_a_trainer_adds_and_removes_a_term_on_the_page(login, services: Services) -> None:
    trainer = await login("zhangwei")
    added = await add(trainer, "携号转网")
    assert added.status_code == 303
    page = await trainer.http.get(added.headers["location"])
    assert page.status_code == 200
    assert listed_terms(page.text) == ["携号转网"]
    assert 'id="terms-done"' in page.text and "携号转网" in page.text

    term_id = re.search(r'action="/search/terms/(\d+)/remove"', page.text).group(1)
    removed = await trainer.http.post(
        f"{PAGE}/{term_id}/remove", data={"csrf_token": trainer.csrf_token}
    )
    assert removed.status_code == 303
    assert listed_terms((await trainer.http.get(removed.headers["location"])).text) == []

    async with services.reading() as unit:
        actions = (await unit.session.scalars(select(AuditEntry.action))).all()
    assert "search.term_added" in actions and "search.term_removed" in actions


async def test_a_bad_or_repeated_term_is_shown_next_to_the_field(login) -> None:
    trainer = await login("zhangwei")
    refused = await add(trainer, "B1E")
    assert refused.status_code == 400
    assert 'id="term-error"' in refused.text and 'aria-invalid="true"' in refused.text
    assert 'value="B1E"' in refused.text  # what was typed stays
    assert (await add(trainer, "不动产登记")).status_code == 303
    repeated = await add(trainer, "不动产登记")
    assert repeated.status_code == 409 and 'id="term-error"' in repeated.text


async def test_the_form_needs_its_token(login) -> None:
    trainer = await login("zhangwei")
    forged = await trainer.http.post(PAGE, data={"term": "携号转网"})
    assert forged.status_code == 403
    page = await trainer.http.get(PAGE)
    assert listed_terms(page.text) == []


@pytest.mark.parametrize("username", ["wangfang", "zhaomin"])
async def test_clerks_and_managers_are_refused_the_page(login, username: str) -> None:
    someone = await login(username)
    assert (await someone.http.get(PAGE)).status_code == 403
    assert (await add(someone, "携号转网")).status_code == 403


async def test_the_search_page_links_editors_to_the_terms(login) -> None:
    trainer, clerk = await login("zhangwei"), await login("wangfang")
    assert 'id="terms-link"' in (await trainer.http.get("/search")).text
    assert 'id="terms-link"' not in (await clerk.http.get("/search")).text
