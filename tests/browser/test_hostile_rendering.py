"""Hostile message text, posted through the API and shown in a room under the app's real
Content-Security-Policy: no script runs, and nothing outside the renderer's allow-list is in
the message bodies' DOM. (The tab fixture fails on any CSP violation or console error.)"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from counterline.messages.rendering import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_CLASSES,
    ALLOWED_TAGS,
    URL_SCHEMES,
)
from tests.browser.conftest import Tab
from tests.cast import Cast
from tests.support.render_corpus import HOSTILE

pytestmark = pytest.mark.browser

# What the room page's own scripts add inside a body (static/js/message_content.js: copy
# buttons and their wrappers, spelled-out codes): not from the message, so not checked
# against the renderer's allow-list, only against the rules that hold for every element.
PAGE_OWN = ".copy-button, .code-chip, .code-block, .fold-toggle"
PAGE_ATTRIBUTES = ["aria-description", "aria-label", "title"]
PAGE_CLASSES = ["resource-code", "resource-path"]

# Every element of every message body that breaks the allow-list, as "tag attribute=value".
FORBIDDEN_IN_BODIES = """({tags, attributes, classes, schemes, pageOwn, pageAttributes}) => {
  const problems = [];
  const bodies = [...document.querySelectorAll("#messages .body")];
  for (const element of bodies.flatMap((body) => [...body.querySelectorAll("*")])) {
    const tag = element.localName;
    const own = element.closest(pageOwn) !== null && !element.matches("code, .unc");
    if (!own && !tags.includes(tag)) problems.push(`<${tag}>`);
    for (const {name, value} of element.attributes) {
      // Classes are checked one by one below, on every element.
      const allowed = own || name === "class" || (attributes[tag] || []).includes(name)
        || pageAttributes.includes(name);
      if (!allowed || name.startsWith("on") || name === "style") {
        problems.push(`<${tag} ${name}=${value}>`);
      }
    }
    for (const name of own ? [] : element.classList) {
      if (!(classes[tag] || []).includes(name)) problems.push(`<${tag} class=${name}>`);
    }
    if (tag === "a" && element.hasAttribute("href")) {
      let scheme = "";
      try {
        scheme = new URL(element.href).protocol.replace(":", "");
      } catch {}
      if (!schemes.includes(scheme)) problems.push(`<a href=${element.getAttribute("href")}>`);
    }
  }
  return {bodies: bodies.length, problems};
}"""


def test_hostile_messages_run_no_script_and_leave_nothing_outside_the_allow_list(
    open_tab, api_user, cast: Cast
) -> None:
    lina = api_user("lina")
    for text in HOSTILE:
        lina.post(cast.company_room_id, text)
    wang: Tab = open_tab()
    dialogs: list[str] = []
    wang.page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    wang.enter("wangfang", f"/rooms/{cast.company_room_id}")

    timeline = wang.page.locator("#timeline")
    for expected in range(50, len(HOSTILE), 50):
        expect(wang.messages).to_have_count(expected)
        timeline.evaluate("(element) => { element.scrollTop = 0; }")
    expect(wang.messages).to_have_count(len(HOSTILE))

    allow_list = {
        "tags": sorted(ALLOWED_TAGS),
        "attributes": {tag: sorted(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        "classes": {"span": sorted(ALLOWED_CLASSES) + PAGE_CLASSES, "code": PAGE_CLASSES},
        "schemes": sorted(URL_SCHEMES),
        "pageOwn": PAGE_OWN,
        "pageAttributes": PAGE_ATTRIBUTES,
    }
    found = wang.page.evaluate(FORBIDDEN_IN_BODIES, allow_list)
    assert found == {"bodies": len(HOSTILE), "problems": []}
    assert wang.page.evaluate("window.__pwned") is None
    assert dialogs == []
