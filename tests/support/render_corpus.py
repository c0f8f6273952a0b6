"""Message texts for the rendering tests: what counter staff really type (codes, numbers, paths,
addresses), which must be shown exactly as typed, and hostile texts, which must come out
harmless. Also a reader of rendered HTML: its visible text and its elements."""

from __future__ import annotations

from html.parser import HTMLParser

from counterline.messages.rendering import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_CLASSES,
    ALLOWED_TAGS,
    URL_SCHEMES,
)

# Each is one paragraph whose lines have no leading or trailing spaces (Markdown drops those,
# and so does a browser): the rendering's visible text must equal the text.
FAITHFUL = [
    # Resource, package and order codes.
    "B1E-0D7",
    "PKG_2026_A*",
    "ZX-00O1-lI5S",
    "B1E*0D7*X",
    "AB_CD_EF",
    "2*3*4",
    "5*2=10",
    "SKU__2026__X",
    "PKG_*_A*",
    "4G*套餐*",
    "B1E-*0D7*",
    "**3**.5",
    "WO#2026-0001",
    "D1B0~~B1E0~~X",
    "5~~10元",
    "~5元",
    "ODR-2026-11-30_001",
    "IMSI:460001234567890",
    # Phone, card and ID numbers, amounts.
    "13800138000",
    "138-0013-8000",
    "0755-12345678",
    "+86 755 1234 5678",
    "400-820-8820",
    "10086",
    "110105199001011234",
    "11010519900101123X",
    "6222 0202 0000 1234 567",
    "99.9%",
    "￥1,299.00",
    "¥58/月",
    "-5℃",
    "3.14",
    "1.5元",
    # Line starts that look like Markdown and are not.
    "2026. 新规定",
    "007. 号窗口",
    "10. 十号窗口",
    "1) 第一项",
    "1. 先在系统登记\n2. 再开收据",
    "#1 号窗口",
    "## 不是标题",
    "# 号码：12345",
    ">100元",
    ">=3 个月",
    "<5G>",
    "1<2 且 a<b>c",
    "---",
    "===",
    "a|b|c",
    # Paths.
    "\\\\fileserver\\client\\setup.exe",
    "\\\\10.2.3.4\\共享\\营业厅\\价格表.xlsx",
    "\\\\fs01\\share$\\报表\\2026\\*.xlsx",
    "\\\\fs\\共享\\价格表（2026版）.xlsx",
    "\\\\oa.company.local\\公告\\通知.docx",
    "C:\\Program Files\\CRM\\crm.exe",
    "D:\\备份\\2026-01\\",
    "D:\\*\\*.xlsx",
    "C:\\Users\\*\\AppData",
    "%APPDATA%\\CRM\\config.ini",
    "/home/user/a_b_c.txt",
    "/var/log/*.log",
    "~/bin/run.sh",
    "file:///C:/Program%20Files/x",
    "file://fileserver/share/a.txt",
    # Addresses.
    "http://crm.intra:8080/order?id=1&type=B",
    "https://oa.example.com.cn/a_b_c/*",
    "oa.company.local",
    "crm.intra:8080/x",
    "http://10.1.2.3:8080/path",
    "https://example.com/search?q=%E4%B8%AD%E6%96%87",
    "http://wiki.corp/页面/价格",
    "https://kb.internal/a*b*c",
    "mailto:help@company.com",
    "help@company.com",
    "http://router.home/",
    "https://a.example.com/#/order/123",
    "http://nas.lan:5000/",
    "https://oa.example.com.cn/x?a=1&amp;b=2",
    "https://xn--fiqs8s.example/",
    # Entities and backslashes are text.
    "&amp;",
    "&lt;b&gt;",
    "Tom &amp; Jerry",
    "&#106;&nbsp;&copy;",
    "\\*不是强调\\*",
    "a\\_b",
    "\\",
    "\\n\\t\\u003c",
    # Full-width characters and punctuation.
    "１２３４",
    "ＡＢＣ－１２３",
    "（注意）【重要】「号码」“引号”",
    "，。；：！？、…—",
    "\"双引号\" 'single' -- ...",
    # Chinese sentences with codes inside.
    "请核对资源编码B1E-0D7和ZX-00O1-lI5S，谢谢",
    "套餐编码PKG_2026_A*已下线，改用PKG_2026_B*",
    "客户卡号6222 0202 0000 1234 567，身份证11010519900101123X",
    "请将 setup.exe 复制到 \\\\fileserver\\client\\ 下",
    "价格表在\\\\10.2.3.4\\共享\\营业厅\\价格表.xlsx，请下载。",
    "详见http://crm.intra:8080/order?id=1&type=B。",
    "登录 oa.company.local 后点“工单”",
    "时间: 10:30，12:00-13:30 午休",
    "计算：2*3*4=24，单价*数量",
    "{red}",
    "{red}未闭合",
    "{/red}",
    "{Red}大写{/Red}",
    "{pink}不在调色板{/pink}",
    "{{7*7}} ${alert(1)} %(room)s",
    "[1] [a](b) ![图](x.png)",
]

# What may not run, load or restyle anything, and may not take long.
_PAYLOADS = [
    "<script>window.__pwned=1</script>",
    "<script>alert(1)</script>",
    "</script><script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<img src=x onerror='window.__pwned=1'>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<iframe src=javascript:alert(1)></iframe>",
    "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
    '<a href="javascript:alert(1)">点我</a>',
    '<a href="&#106;avascript:alert(1)">点我</a>',
    '<a href="jav&#x09;ascript:alert(1)">点我</a>',
    "<a href='JaVaScRiPt:alert(1)'>x</a>",
    "<body onload=alert(1)>",
    "<div style='position:fixed;inset:0;background:red'>盖住</div>",
    "<style>*{display:none}</style>",
    "<link rel=stylesheet href=//evil.example/x.css>",
    "<meta http-equiv=refresh content='0;url=javascript:alert(1)'>",
    "<object data=javascript:alert(1)></object>",
    "<embed src=javascript:alert(1)>",
    "<form action=javascript:alert(1)><button>x</button></form>",
    "<input autofocus onfocus=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<base href=//evil.example/>",
    "<!--<img src=x onerror=alert(1)>-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "<scr<script>ipt>alert(1)</script>",
    "<<script>alert(1)//<</script>",
    "<img src=x onerror=alert(1)//",
    '<a href="javascript:alert(1)"',
    "<b onmouseover=alert(1)>悬停</b>",
    "<span class=tc-red style=color:red onclick=alert(1)>x</span>",
    "<p class=unc id=boot>x</p>",
    "<table background=javascript:alert(1)><tr><td>x</td></tr></table>",
    "<video><source onerror=alert(1)></video>",
    "<audio src=x onerror=alert(1)>",
    "<marquee onstart=alert(1)>x</marquee>",
    "<template><script>alert(1)</script></template>",
    # Markdown links and autolinks to what may not be opened.
    "[x](javascript:alert(1))",
    "[x](JAVASCRIPT:alert(1))",
    "[x]( javascript:alert(1) )",
    "[x](java\nscript:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](jav&#x09;ascript:alert(1))",
    "[x](java%0ascript:alert(1))",
    "[x](\\javascript:alert(1))",
    "[x](<javascript:alert(1)>)",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](data:text/html,<script>alert(1)</script>)",
    "[x](file:///etc/passwd)",
    "[x](//evil.example)",
    "[x](/api/v1/session)",
    "[x](#boot)",
    '[x](https://example.com "title" onclick=alert(1))',
    '[x](https://example.com" onmouseover="alert(1))',
    "[x][ref]\n\n[ref]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "<https://example.com onclick=alert(1)>",
    "![x](javascript:alert(1))",
    "![x](https://evil.example/track.png)",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "http://example.com/<script>alert(1)</script>",
    'http://example.com/"onmouseover="alert(1)',
    "http://example.com/'><img src=x onerror=alert(1)>",
    "https://example.com/?q=<svg/onload=alert(1)>",
    '\\\\evil\\share"><img src=x onerror=alert(1)>',
    "file:///C:/<script>alert(1)</script>",
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
    '```" onmouseover="alert(1)\nx\n```',
    "{red}<script>alert(1)</script>{/red}",
    "{red}[x](javascript:alert(1)){/red}",
    '{red" onclick="alert(1)}x{/red}',
    "{red}{blue}{green}{orange}{purple}{grey}深{/grey}{/purple}{/orange}{/green}{/blue}{/red}",
    "| <img src=x onerror=alert(1)> | b |\n|---|---|\n| [x](javascript:alert(1)) | c |",
    "> <script>alert(1)</script>\n> [x](javascript:alert(1))",
    "- <svg onload=alert(1)>\n- **<b>x</b>**",
    "**<img src=x onerror=alert(1)>**",
    "~~<iframe src=//evil.example>~~",
    # Broken markup.
    "<",
    "<<<>>>",
    "<p",
    "</p></li></ul></blockquote></pre></code>",
    "<a",
    "&",
    "&#",
    "&#x;",
    "]]>",
    "<!--",
    "[",
    "[x](",
    "**",
    "``",
    "```",
    "| a |\n|",
    "{/red}{red}",
    # Text direction controls: stripped, nothing after the message is reordered.
    "invoice\u202efdp.exe",
    "\u202e反转\u202c正常",
    "\u2067隔离\u2069\u2066left\u2069\u2068first\u2069",
    "\u202a\u202b\u202d嵌套",
    "\u200f\u200e\u061c标记",
]
# As big as a message may be (10,000 characters) or nested deeper than anyone types.
HUGE = [
    "> " * 5000,
    ">" * 5000,
    "- " * 5000,
    "\n".join("  " * depth + "- x" for depth in range(95)),
    "*" * 10_000,
    "[" * 10_000,
    "[](" * 3333,
    "`" * 10_000,
    "\\" * 10_000,
    "{red}" * 2000,
    "{red}{blue}" * 420 + "x" + "{/blue}{/red}" * 360,
    "**a" * 3333,
    "_a" * 5000,
    "~~a" * 3333,
    "http://a.example.com/ " * 450,
    "a.example.com " * 700,
    "\\\\a\\" * 2500,
    "|a" * 2500 + "\n" + "|-" * 2499,
    "[" * 3000 + "x" + "](http://a.com)" * 400,
    "a\n" * 5000,
    "*_~`[{\\<&" * 1111,
    "<script>" * 1250,
    "中" * 10_000,
]
HOSTILE = _PAYLOADS + HUGE
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


class Rendered(HTMLParser):
    """Rendered HTML read back: its visible text (``<br>`` is a new line) and its elements."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.text = ""
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.after_break = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        if tag == "br":
            self.text += "\n"
            self.after_break = True

    def handle_data(self, data: str) -> None:
        if self.after_break and data.startswith("\n"):
            data = data[1:]  # the source's line end after <br>, not shown
        self.after_break = False
        self.text += data

    def tags(self) -> list[str]:
        return [tag for tag, _ in self.elements]

    def visible_text(self) -> str:
        return self.text.strip()


def outside_the_allow_list(html: str) -> list[str]:
    """Every element, attribute, class and link of ``html`` the renderer may not emit."""
    problems = []
    for tag, attributes in Rendered(html).elements:
        if tag not in ALLOWED_TAGS:
            problems.append(f"<{tag}>")
        for name, value in attributes.items():
            if name not in ALLOWED_ATTRIBUTES.get(tag, ()):
                problems.append(f"<{tag} {name}>")
            elif name == "class" and not set((value or "").split()) <= ALLOWED_CLASSES:
                problems.append(f"<{tag} class={value}>")
            elif name == "href" and (value or "").split(":")[0].lower() not in URL_SCHEMES:
                problems.append(f"<a href={value}>")
            elif name == "rel" and value != "noopener noreferrer nofollow":
                problems.append(f"<a rel={value}>")
            elif name == "target" and value != "_blank":
                problems.append(f"<a target={value}>")
    return problems
