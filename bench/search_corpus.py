"""A synthetic but realistic corpus of counter-business chat for the search benchmark.

Messages are what clerks of a bank / telecom / utility branch network write to each other:
a customer at the counter, a product or price rule, a device with its resource code
(``B1E-0D7``), a work order, a phone number, an amount, a branch, a colleague. Every slot is
drawn from its own list with Zipf-like weights (rank r drawn ∝ 1 / r^1.1), so some words are
in a tenth of all messages and others in a handful: the benchmark needs both.

The generator is deterministic (one seed) and counts, for each word it puts into a message,
how many messages hold it (its document frequency), so the benchmark can pick query words
of a known class (rare, common, a code) without scanning the database.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

ZIPF_EXPONENT = 1.1


def _words(text: str) -> list[str]:
    return text.split()


BUSINESS = _words(
    "宽带 光猫 机顶盒 携号转网 套餐 流量包 话费 停机 复机 补卡 销户 过户 实名认证 押金 发票 电费 "
    "水费 燃气费 预存款 账单 分期 信用卡 借记卡 挂失 转账 汇款 理财 定期存款 活期 利率 手续费 "
    "排队叫号 工单 投诉 积分兑换 融合套餐 副卡 亲情号 宽带续费 装机 移机 拆机 故障报修 光纤 "
    "路由器 合约机 购机补贴 阶梯电价 峰谷电价 智能电表 抄表 欠费 滞纳金 违约金 退费 充值卡 代扣 "
    "社保卡 医保 公积金 营业执照 对公账户 开户许可 反洗钱 大额取现 预约 外币兑换 结售汇 保险箱 "
    "贵金属 基金定投 国债 存单 密码重置 网银盾 手机银行 短信通知 电子渠道 跨行转账 验资 "
    "代发工资 贷款 房贷 提前还款 征信 担保 抵押 保证金 承兑汇票 电子回单 对账单 冲正 挂账 "
    "预付费 后付费 增值业务 彩铃 国际漫游 停复机保号 靓号 号码预占 套餐变更 老用户回馈 宽带提速 "
    "千兆宽带 全屋WiFi 云电脑 天翼看家 摄像头 物联网卡 集团客户 政企专线 IP电话 固话 "
    "燃气表 IC卡 阀门 安检 通气点火 表具更换 水表 户表改造 分户 合表 阶梯水价 污水处理费 "
    "垃圾处理费 电力增容 分时电价 光伏并网 充电桩 用电报装 临时用电 电能表 计量箱"
)
RARE_BUSINESS = _words(
    "跨境汇款限额 贵金属质押 副卡解绑 离网挽留 携转授权码 靓号低消 存量客户迁转 异网策反 "
    "银税互动 普惠金融 无障碍服务 适老化改造 减免滞纳金 电子社保卡激活 企业网银年检 "
    "账户分类 二类账户 三类账户 睡眠户 久悬户 冒名开户 断卡行动 涉诈账户 资金监控 "
    "大额存单转让 结构性存款 养老理财 数字人民币 硬钱包 软钱包 光改铜 端口满 分光器 "
    "抄表例日 峰平谷 一户多人口 低保减免 煤改电 农网改造 预缴电费 欠费停气 燃气报警器"
)
DEVICES = _words(
    "光猫 机顶盒 路由器 手机 华为Mate60 iPhone15 小米14 OPPO 荣耀 中兴光猫 烽火光猫 "
    "智能电表 燃气表 水表 POS机 叫号机 填单机 智能柜员机 身份证阅读器 打印机 密码键盘 U盾"
)
PRODUCTS = _words(
    "畅享99元套餐 畅享129元套餐 5G融合199档 5G融合299档 宽带500M 千兆宽带 亲情卡 大王卡 "
    "校园卡 老年卡 流量日包 视频会员 家庭宽带包年 宽带续约 月享30G包 定期三年期 "
    "大额存单 月月盈 安心理财 薪金宝 信用卡分期 装修贷 车贷 公积金贷款 阶梯电价 居民电价"
)
PRICE_RULES = _words(
    "首月半价 合约期24个月 违约金按剩余月份30%收取 满100减20 预存200送200 月租下调10元 "
    "老用户续约打八折 超出流量按3元/GB计费 新装宽带免调测费 押金100元可退 "
    "分期手续费率0.6% 提前还款收取1%违约金 起存金额20万 年化利率2.15% 阶梯第二档加价0.05元"
)
PROBLEMS = _words(
    "系统提示身份证校验失败 一直转圈 提示号码已被占用 显示欠费停机 扣款失败 重复扣费 "
    "打印机卡纸 签名板没反应 人脸识别不通过 短信验证码收不到 提示余额不足 工单提交报错 "
    "页面超时 提示权限不足 光猫红灯闪 网速慢 电视没信号 电表不走字 燃气卡写不进去"
)
ACTIONS = _words("办理 取消 变更 查询 补办 退订 开通 注销 续约 升级 降档 核对 冲正 撤销 更换")
FOLLOW_UPS = _words("核对 签收 回复 登记 上报 跟进 复核 回访 确认 处理 盘点 入库 出库 寄回 转派")
DOCUMENTS = _words("身份证 户口本 营业执照 授权委托书 结婚证 房产证 银行卡 原合同 发票原件 介绍信")
COMPLAINTS = _words(
    "乱收费 排队太久 态度不好 业务没办成 宽带装机拖延 扣费不明 短信骚扰 电费突然变高 "
    "燃气表漏气 没有提前通知停水"
)
SYSTEM_ISSUES = _words("升级 卡顿 故障 维护 断网 登录不了 打不开 报错 慢 重启")
PLACES = _words(
    "花桥 城东 城西 南门 北关 新区 开发区 高新 滨江 湖滨 东湖 江北 江南 老城 火车站 大学城 "
    "工业园 科技园 步行街 中心广场 人民路 解放路 建设路 中山路 和平里 光明 幸福 胜利 红旗 "
    "朝阳 金桥 银河 长安 新华 文化宫 体育馆 机场 港口 石桥 柳营 桃园 梅林 松岗 竹林 龙华 "
    "凤凰 白沙 青山 黄埔 越秀"
)
TIMES_OF_DAY = _words("上午 下午 中午 晚上 九点前 十点 两点半 下班前 午休后")
ACKS = _words("好的 收到 已处理 谢谢 明白 马上办 辛苦了 稍等 我看一下 已转派 已回访 没问题")
FILLERS = _words(
    "请各位注意 麻烦大家 辛苦了 请尽快 今天 明天 本周内 月底前 务必 另外 顺便说一下 "
    "再提醒一次 按流程 请留意 急 谢谢"
)
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛"
)
GIVEN = (
    "伟芳娜英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚华玉萍红娥玲芬燕彬鹏辉国志俊峰斌海波宁晨浩宇"
    "欣怡涵轩婷琪远博佑"
)
ERRORS = _words("E1002 E2031 ERR_TIMEOUT 0x80070005 404 500 AUTH-17 NET-9 CRM-4412 BSS-301")

CLAUSES = (
    "{cust}来办理{biz}，{problem}，怎么处理？",
    "{cust}要{action}{biz}，需要带{doc}吗？",
    "通知：{date}起{product}{rule}，请各网点做好解释。",
    "资源编码{code}的{device}已出库，请{place}网点{follow}。",
    "工单{order}已派单，{staff}明天{tod}上门{action}{biz}。",
    "{product}现在{rule}，{cust}问能不能{action}。",
    "系统{sys}，{biz}暂时办不了，请先登记{cust}的电话{phone}。",
    "{ack}",
    "{ack}，{filler}。",
    "@{staff} {biz}的{doc}要留复印件吗",
    "{place}营业厅今天排队{n}人，{biz}业务量大，请求支援。",
    "{cust}投诉{complaint}，已按流程{follow}，工单号{order}。",
    "{device}型号{code}库存只剩{n}台，{place}那边还有吗？",
    "{filler}：{rare}要{follow}，{date}前报{place}。",
    "今日{biz}办理{n}笔，{biz2}{n2}笔，合计收费{amount}元。",
    "客户的{device} SN {sn} 无法激活，报错 {err}",
    "{cust}的{rare}问题，{staff}已{follow}。",
    "{biz}{rule}，{filler}。",
    "{code} {device} 请{follow}",
)


def zipf_weights(count: int, exponent: float = ZIPF_EXPONENT) -> list[float]:
    """Cumulative weights for ranks 1..count drawn ∝ 1 / rank^exponent."""
    return list(itertools.accumulate(1 / (rank**exponent) for rank in range(1, count + 1)))


@dataclass
class Pool:
    """Words of one kind in a fixed random rank order, drawn Zipf-like (a flatter curve for
    big pools such as customers' names: no one customer is in every tenth message)."""

    words: list[str]
    exponent: float = ZIPF_EXPONENT
    cumulative: list[float] = field(init=False)

    def __post_init__(self) -> None:
        self.cumulative = zipf_weights(len(self.words), self.exponent)

    def draw(self, rng: random.Random) -> str:
        return rng.choices(self.words, cum_weights=self.cumulative)[0]


def _ranked(words: Sequence[str], rng: random.Random) -> list[str]:
    ranked = list(dict.fromkeys(words))
    rng.shuffle(ranked)
    return ranked


def resource_code(rng: random.Random) -> str:
    """A device resource code like ``B1E-0D7``."""
    letters, digits = "ABCDEFGHJKLMNPQRSTUVWXYZ", "0123456789"
    return (
        rng.choice(letters)
        + rng.choice(digits)
        + rng.choice(letters)
        + "-"
        + rng.choice(digits)
        + rng.choice(letters)
        + rng.choice(digits)
    )


class Corpus:
    """Deterministic message bodies, and how many messages each drawn word is in."""

    # The slots whose words are counted (and so can be query words of a known class).
    COUNTED = ("biz", "rare", "code", "cust", "device", "product", "place")

    def __init__(self, seed: int = 12) -> None:
        rng = random.Random(seed)
        self.rng = rng
        names = {s + g for s in SURNAMES for g in GIVEN}
        names |= {
            s + a + b
            for s, a, b in zip(
                rng.choices(SURNAMES, k=6000),
                rng.choices(GIVEN, k=6000),
                rng.choices(GIVEN, k=6000),
                strict=True,
            )
        }
        self.pools = {
            "biz": Pool(_ranked(BUSINESS, rng)),
            "rare": Pool(_ranked(RARE_BUSINESS, rng)),
            "code": Pool(_ranked(sorted({resource_code(rng) for _ in range(30_000)}), rng), 0.6),
            "cust": Pool(_ranked(sorted(names), rng), 0.6),
            "staff": Pool(
                _ranked([s + "师傅" for s in SURNAMES] + [s + "经理" for s in SURNAMES], rng)
            ),
            "device": Pool(_ranked(DEVICES, rng)),
            "product": Pool(_ranked(PRODUCTS, rng)),
            "rule": Pool(_ranked(PRICE_RULES, rng)),
            "problem": Pool(_ranked(PROBLEMS, rng)),
            "action": Pool(_ranked(ACTIONS, rng)),
            "follow": Pool(_ranked(FOLLOW_UPS, rng)),
            "doc": Pool(_ranked(DOCUMENTS, rng)),
            "complaint": Pool(_ranked(COMPLAINTS, rng)),
            "sys": Pool(_ranked(SYSTEM_ISSUES, rng)),
            "place": Pool(_ranked(PLACES, rng)),
            "tod": Pool(_ranked(TIMES_OF_DAY, rng)),
            "ack": Pool(_ranked(ACKS, rng)),
            "filler": Pool(_ranked(FILLERS, rng)),
            "err": Pool(_ranked(ERRORS, rng)),
            "clause": Pool(list(CLAUSES)),
        }
        self.frequency: Counter[str] = Counter()
        self.kind_of: dict[str, str] = {}
        self.count = 0

    def _customer(self, rng: random.Random) -> str:
        name = self.pools["cust"].draw(rng)
        roll = rng.random()
        if roll < 0.3:
            return name[0] + rng.choice(("女士", "先生", "阿姨", "大爷"))
        return name

    def body(self) -> str:
        """The next message body."""
        rng = self.rng
        seen: set[tuple[str, str]] = set()
        clauses = []
        for _ in range(1 if rng.random() < 0.55 else 2 if rng.random() < 0.8 else 3):
            template = self.pools["clause"].draw(rng)
            values: dict[str, str] = {}
            for slot in _slots(template):
                if slot in ("n", "n2"):
                    value = str(rng.randint(2, 60))
                elif slot == "amount":
                    value = f"{rng.randint(50, 9_999)}.{rng.randint(0, 99):02d}"
                elif slot == "date":
                    value = f"{rng.randint(1, 12)}月{rng.randint(1, 28)}日"
                elif slot == "order":
                    day = f"{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
                    value = f"GD2026{day}{rng.randint(0, 9999):04d}"
                elif slot == "phone":
                    value = (
                        f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(0, 99_999_999):08d}"
                    )
                elif slot == "sn":
                    value = f"{rng.choice('ZHXF')}{rng.randint(0, 16**10):010X}"
                elif slot == "cust":
                    value = self._customer(rng)
                elif slot == "biz2":
                    value = self.pools["biz"].draw(rng)
                else:
                    value = self.pools[slot].draw(rng)
                values[slot] = value
                kind = "biz" if slot == "biz2" else slot
                if kind in self.COUNTED:
                    seen.add((kind, value))
            clauses.append(template.format(**values))
        for kind, word in seen:
            self.frequency[word] += 1
            self.kind_of[word] = kind
        self.count += 1
        return "".join(clauses)

    def bodies(self, count: int) -> Iterator[str]:
        for _ in range(count):
            yield self.body()

    def words(self, kind: str, low: int, high: int) -> list[str]:
        """Counted words of one kind held by between ``low`` and ``high`` messages, rarest
        first."""
        found = [
            (n, word)
            for word, n in self.frequency.items()
            if self.kind_of[word] == kind and low <= n <= high
        ]
        return [word for _, word in sorted(found)]

    def custom_words(self) -> list[str]:
        """The business terms an admin would add to the dictionary (multi-character terms)."""
        return [w for w in (*BUSINESS, *RARE_BUSINESS, *PRODUCTS) if len(w) >= 3]


def _slots(template: str) -> list[str]:
    return [part.split("}", 1)[0] for part in template.split("{")[1:]]
