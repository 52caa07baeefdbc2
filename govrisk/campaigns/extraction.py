"""Find campaign-indicator figures in a publicity-campaign report (DESIGN §7.3, domain/campaign-indicators.md).

A figure is a written number followed at once by a counting unit: 1500余份, 8块, 1.2亿元. The indicator it
counts is named, in this order of preference, by a noun just before it (宣传资料1500余份), by a noun after it
in the same clause (8块宣传牌), by a verb shortly before it (出动50人次), or, for a bare "共N人", by a meeting
named earlier in the sentence. Dates (6月15日), document numbers (〔2024〕88号, 737号令), list numbers (一、 1、
(一)) and counts of kinds (三种手段, 六方面内容) are never followed by a counting unit, so they never become
figures; ordinals, idioms and rates that are (第3次, 一起, 每月一次) are in NOT_FIGURES and RATE_WORDS.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from govrisk.campaigns.numerals import FOLD_WIDTH, NUMERAL_PATTERN, as_number, parse_numeral


class Rule(NamedTuple):
    key: str
    title: str
    units: tuple[str, ...]
    nouns: tuple[str, ...]
    verbs: tuple[str, ...] = ()
    # Nouns that name this indicator only after one of its verbs (清除…广告 vs 公益广告, 没收传单 vs 发放传单).
    weak_nouns: tuple[str, ...] = ()
    # Words earlier in the sentence that name a bare total ("召开座谈会…共50人").
    cues: tuple[str, ...] = ()


PERSONS = ("人次", "人", "名")

# fmt: off

# Mirrors the table in domain/campaign-indicators.md. Its "phrases that name it" are split into the noun
# (which starts the mention's text, as in 宣传标语6幅) and the verb (悬挂); 名 is added wherever 人 is.
RULES: tuple[Rule, ...] = (
    Rule("staff_turnout", "出动人员", PERSONS, ("工作人员", "宣传人员", "志愿者"),
         ("出动", "派出", "抽调", "组织"), weak_nouns=("人员",)),
    Rule("vehicles", "宣传车", ("台", "辆"), ("流动宣传车", "宣传车", "广播车"), ("出动",)),
    Rule("banners", "横幅/条幅/标语", ("条", "幅"), ("横幅", "条幅", "宣传标语", "标语"), ("悬挂",)),
    Rule("posters", "海报", ("张", "份"), ("海报", "宣传画"), ("张贴",)),
    Rule("leaflets", "宣传资料", ("份", "册", "本", "张"),
         ("宣传资料", "宣传页", "宣传单", "折页", "手册", "宣传册", "宣传品", "资料", "传单"),
         ("发放", "派发", "分发", "印发", "印制")),
    Rule("boards", "展板/宣传牌", ("块",), ("展板", "宣传牌", "宣传板"), ("摆放",)),
    Rule("led_screens", "电子屏", ("块", "个", "台"), ("LED", "电子显示屏", "电子屏", "显示屏")),
    Rule("windows", "宣传窗/宣传栏", ("个", "期"), ("宣传窗", "宣传栏", "宣传专栏", "橱窗"), ("出刊",)),
    Rule("consultations", "咨询", PERSONS, ("咨询群众", "咨询"), ("接受", "接待", "解答")),
    Rule("audience", "受众", PERSONS, ("受众", "覆盖群众", "参与群众", "受益群众", "群众", "居民", "观众"),
         ("覆盖", "惠及", "吸引")),
    Rule("events", "活动场次", ("场", "次"), ("宣讲", "讲座", "集中宣传活动", "宣传活动", "活动"), ("举办", "开展")),
    Rule("trainings", "培训场次", ("场", "次", "期"), ("培训班", "培训", "授课"), ("举办", "开展")),
    Rule("trainees", "培训人数", PERSONS, ("参训人员", "参训", "参加培训", "培训人员"), ("培训",)),
    Rule("articles", "文章/报道", ("篇",), ("宣传文章", "文章", "稿件"), ("刊发", "发表", "撰写")),
    Rule("public_ads", "公益广告", ("次", "条"), ("公益广告",), ("播放", "投放", "刊播")),
    Rule("media_reports", "媒体报道", ("次", "篇"), ("媒体报道", "新闻报道", "报道")),
    Rule("new_media_posts", "新媒体推送", ("条", "篇", "个"),
         ("微信推送", "推送", "公众号", "抖音视频", "短视频", "朋友圈", "微博", "推文"), ("推送", "转发")),
    Rule("ads_removed", "清理违规广告", ("个", "处", "张", "条"),
         ("小广告", "广告名片", "违规广告", "非法广告", "牛皮癣"), ("铲除", "清理", "清除"), weak_nouns=("广告",)),
    Rule("flyers_confiscated", "没收传单", ("份",), (), ("没收", "收缴"), weak_nouns=("传单", "宣传单", "宣传资料")),
    Rule("online_blocked", "封堵网络信息", ("条",), ("网络不良信息", "不良信息", "有害信息", "违规信息"),
         ("封堵", "删除", "屏蔽")),
    Rule("clues", "线索", ("个", "条"), ("线索",), ("移交", "上报")),
    Rule("participating_units", "参与单位", ("家", "个"),
         ("参与单位", "参会单位", "成员单位", "银行机构", "金融机构", "单位", "机构", "银行")),
    Rule("attendees", "参会人数", ("人", "名"), ("参会人员", "与会人员", "参会代表", "参会", "与会"),
         cues=("座谈会", "推进会", "会议", "论坛", "大会")),
    Rule("commitments", "承诺书", ("份",), ("承诺书",), ("签订", "签署")),
    Rule("case_studies", "典型案例", ("个", "起"), ("典型案例", "案例"), ("剖析", "讲解", "选取", "通报")),
    Rule("cases_filed", "立案", ("起", "件"), ("立案", "案件"), ("立案", "查处", "侦办")),
    Rule("persons_involved", "涉案人数", ("人", "名"), ("涉案人员", "涉案人数", "涉案")),
    Rule("amount_yuan", "涉案金额", ("元",), ("涉案金额", "金额", "资金"), ("涉及",)),
)


class Label(NamedTuple):
    title: str
    unit: str


INDICATORS: dict[str, Label] = {rule.key: Label(rule.title, rule.units[0]) for rule in RULES}

# Words that may stand before a noun and belong to its phrase (社区宣传窗, 非法小广告); 墙面 and the like do not.
MODIFIERS = ("宣传", "社区", "非法", "违规", "违法", "户外", "流动", "大型", "电子", "纸质", "LED")
# Words that may stand between a noun and its number (电子显示屏宣传18块, 参训人数120人, 宣传资料共计3000份).
FILLERS = ("共计", "合计", "累计", "总计", "总共", "一共", "共", "达到", "达", "为", "计", "有",
           "宣传", "人数", "数量", "总数")
APPROX_BEFORE = r"大约|将近|超过|(?<![最附接靠临])近|(?<![预签制节契公条])约|逾|超|(?<![线网])上(?=[百千万亿])"
APPROX_AFTER = r"左右|以上|有余"
# A unit followed by these is the start of another word: 五一期间, 3场所, 本行.
UNIT_FALSE_FRIENDS = ("期间", "场所", "场地", "场景", "条例", "条件", "处理", "处置", "处罚", "家庭", "本行", "本地",
                      "本次", "名单", "名称", "元旦", "台账", "次日")
# A number followed by these counts kinds of things or spans time, not work done: 两个宣传群体, 三个层面, 3个月.
KIND_WORDS = ("种", "类", "方面", "层面", "群体", "手段", "形式", "渠道", "环节", "阶段", "措施", "方式", "内容",
              "月", "小时", "星期", "工作日")
# fmt: on
# Numbers followed by a unit that still are not figures, tried at the number.
NOT_FIGURES = {
    "ordinal": re.compile(r"(?<=第)"),  # 第3次, 第一期
    "idiom": re.compile(r"一(?:起|块儿|次性|家人|条龙|张网|本账|件事)"),  # 一起 = together
}
# A rate is not a count of work done: 每月一次, 每户发放1份, 人均2份 (anywhere earlier in the clause).
RATE_WORDS = ("每", "人均", "平均", "户均")
# 共 alone marks a total (活动中共发放…) but not in 公共, 共同, 共享 … or the party's name (中共中央, 中共xx县委).
TOTAL_MARKERS = re.compile(
    r"共计|合计|累计|总计|总共|一共|(?<![公中])共(?![同享建治识性产青])|(?<=中)共(?!中央|[^，,。；;、]{0,8}?委|[同享建治识性产青])"
)
PART_MARKERS = re.compile(r"其中|包括")
SENTENCE_BREAKS = "。！？!?；;\n"
CLAUSE_BREAKS = SENTENCE_BREAKS + '，,、：:（）()“”"‘’《》【】〔〕﹝﹞[]'
MAX_GAP_AFTER = 24  # how far past the unit a noun may name the figure (8个银行从业人员参与非法集资的典型案例)
MAX_GAP_VERB = 8  # how far before the number a verb may name it (出动执法人员50人次)


def _alternation(words) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


def _unit_pattern() -> str:
    units = sorted({u for rule in RULES for u in rule.units}, key=len, reverse=True)
    parts = []
    for unit in units:
        friends = [w[len(unit) :] for w in UNIT_FALSE_FRIENDS if w.startswith(unit)]
        parts.append(re.escape(unit) + (f"(?!{_alternation(friends)})" if friends else ""))
    return "|".join(parts)


def _noun_index() -> dict[str, tuple[Rule, ...]]:
    index: dict[str, list[Rule]] = {}
    for rule in RULES:
        for noun in rule.nouns + rule.weak_nouns:
            index.setdefault(noun.upper(), []).append(rule)
    return {noun: tuple(rules) for noun, rules in index.items()}


NOUN_RULES = _noun_index()
_NOUN = _alternation(NOUN_RULES)
_NUMERAL_CHARS = "0-9零〇一二两三四五六七八九十百千万亿"
FIGURE_RE = re.compile(
    rf"(?<![{_NUMERAL_CHARS}])(?<![0-9][.,])(?P<pre>{APPROX_BEFORE})?(?P<num>{NUMERAL_PATTERN})\s?"
    rf"(?P<unit>{_unit_pattern()})(?P<post>{APPROX_AFTER})?"
)
NOUN_RE = re.compile(_NOUN, re.I)
NOUN_BEFORE_RE = re.compile(
    rf"(?:{_alternation(MODIFIERS)})*?(?P<noun>{_NOUN})(?:{_alternation(FILLERS)}|\s|[:：])*\Z", re.I
)
TOTAL_LEAD_RE = re.compile(rf"(?:{TOTAL_MARKERS.pattern})[有计达]?\Z")
LOOK_BACK = 40  # longest modifiers + noun + fillers before a number
CONTEXT = 300  # longest clause or sentence the rules look back over


@dataclass(frozen=True)
class Figure:
    start: int  # includes an approx word before the number (约, 近)
    number_start: int
    end: int  # includes an approx word after the unit (左右)
    value: Decimal
    approx: bool
    unit: str


@dataclass(frozen=True)
class Mention:
    rule: Rule
    figure: Figure
    start: int
    end: int
    is_total: bool

    def as_dict(self, text: str) -> dict:
        return {
            "indicator": self.rule.key,
            "value": as_number(self.figure.value),
            "approx": self.figure.approx,
            "unit": self.figure.unit,
            "text": text[self.start : self.end],
            "start": self.start,
            "end": self.end,
        }


def extract_indicators(text: str) -> dict:
    """Return the indicator mentions of a campaign report and each indicator's total (DESIGN §7.3)."""
    mentions = find_mentions(text)
    return {"mentions": [m.as_dict(text) for m in mentions], "totals": _totals(mentions)}


def find_mentions(text: str) -> list[Mention]:
    """Every indicator figure in the text, in order, with its rule and whether the text marks it as a total."""
    figures = list(_figures(text))
    mentions = []
    for i, figure in enumerate(figures):
        stop = figures[i + 1].start if i + 1 < len(figures) else len(text)
        mention = _classify(text, figure, stop)
        if mention:
            mentions.append(mention)
    return mentions


def _figures(text: str) -> Iterator[Figure]:
    folded = text.translate(FOLD_WIDTH)
    for match in FIGURE_RE.finditer(folded):
        numeral = parse_numeral(match["num"])
        if numeral is None or _is_word(match) or _not_a_figure(folded, match.start("num")):
            continue
        approx = numeral.approx or bool(match["pre"] or match["post"])
        value = Decimal(str(numeral.value))
        yield Figure(match.start(), match.start("num"), match.end(), value, approx, match["unit"])


def _is_word(match: re.Match) -> bool:
    # A bare leading 百/千/万/亿 is a word (老百姓, 千家万户) unless it reads as a figure: 上万, 近千, 千余, 万多.
    num = match["num"]
    return num[0] in "百千万亿" and not match["pre"] and not (len(num) > 1 and num[1] in "余多")


def _not_a_figure(text: str, pos: int) -> bool:
    if any(pattern.match(text, pos) for pattern in NOT_FIGURES.values()):
        return True
    return any(word in _clause_before(text, pos) for word in RATE_WORDS)


def _clause_before(text: str, pos: int) -> str:
    return _since_last(CLAUSE_BREAKS, text, pos)


def _sentence_before(text: str, pos: int) -> str:
    return _since_last(SENTENCE_BREAKS, text, pos)


def _since_last(breaks: str, text: str, pos: int) -> str:
    # Bounded, so a long text without breaks stays linear.
    low = max(0, pos - CONTEXT)
    last = max(text.rfind(ch, low, pos) for ch in breaks)
    return text[last + 1 if last >= 0 else low : pos]


def _classify(text: str, figure: Figure, stop: int) -> Mention | None:
    for finder in (_noun_before, _noun_after, _verb_before, _cue_before):
        found = finder(text, figure, stop)
        if found:
            rule, start, end = found
            return Mention(rule, figure, start, end, _is_total(text, figure.number_start))
    return None


def _noun_before(text: str, figure: Figure, stop: int) -> tuple[Rule, int, int] | None:
    offset = max(0, figure.start - LOOK_BACK)
    match = NOUN_BEFORE_RE.search(text, offset, figure.start)
    if not match:
        return None
    rule = _pick(match["noun"], figure.unit, _clause_before(text, figure.start))
    return (rule, match.start(), figure.end) if rule else None


def _noun_after(text: str, figure: Figure, stop: int) -> tuple[Rule, int, int] | None:
    gap_end = min(stop, figure.end + MAX_GAP_AFTER, _clause_end(text, figure.end))
    context = _clause_before(text, figure.start)
    # The head noun comes last in a Chinese noun phrase, so the last fitting noun wins.
    for match in reversed(list(NOUN_RE.finditer(text, figure.end, gap_end))):
        rule = _pick(match.group(), figure.unit, context)
        if rule:
            between = text[figure.end : match.start()]
            return None if any(word in between for word in KIND_WORDS) else (rule, figure.start, match.end())
    return None


def _verb_before(text: str, figure: Figure, stop: int) -> tuple[Rule, int, int] | None:
    clause = _clause_before(text, figure.start)
    clause_start = figure.start - len(clause)
    best: tuple[Rule, int, int] | None = None
    for rule in RULES:
        if figure.unit not in rule.units:
            continue
        for verb in rule.verbs:
            at = clause.rfind(verb)
            near = at >= 0 and len(clause) - at - len(verb) <= MAX_GAP_VERB
            if near and (best is None or clause_start + at > best[1]):
                best = (rule, clause_start + at, figure.end)
    return best


def _cue_before(text: str, figure: Figure, stop: int) -> tuple[Rule, int, int] | None:
    sentence = _sentence_before(text, figure.start)
    if not TOTAL_LEAD_RE.search(sentence):
        return None
    sentence_start = figure.start - len(sentence)
    for rule in RULES:
        for cue in rule.cues if figure.unit in rule.units else ():
            at = sentence.rfind(cue)
            if at >= 0:
                return rule, sentence_start + at, figure.end
    return None


def _clause_end(text: str, pos: int) -> int:
    ends = [i for i in (text.find(ch, pos, pos + MAX_GAP_AFTER) for ch in CLAUSE_BREAKS) if i >= 0]
    return min(ends, default=len(text))


def _pick(noun: str, unit: str, context: str) -> Rule | None:
    """The rule a noun names for this unit: one whose verb is in the clause wins; a weak noun needs its verb."""
    fallback = None
    for rule in NOUN_RULES.get(noun.upper(), ()):
        if unit not in rule.units:
            continue
        has_verb = any(verb in context for verb in rule.verbs)
        if has_verb:
            return rule
        if fallback is None and noun not in rule.weak_nouns:
            fallback = rule
    return fallback


def _is_total(text: str, pos: int) -> bool:
    # The report's own total (共/累计/合计 earlier in the sentence) unless a 其中 breaks it down after that.
    sentence = _sentence_before(text, pos)
    markers = [(m.start(), True) for m in TOTAL_MARKERS.finditer(sentence)]
    markers += [(m.start(), False) for m in PART_MARKERS.finditer(sentence)]
    return max(markers)[1] if markers else False


class Figured(NamedTuple):
    """One figure counted towards a total: its indicator, value, lower-bound flag and total flag."""

    key: object
    value: Decimal
    approx: bool
    is_total: bool


def combine_totals(figures) -> dict:
    """Each key's total as (value, approx): the figures marked as totals when a key has any, else all of them.

    A figure the report gives as a total already includes the parts reported before it (report-02:
    共…3000余份 includes the 1500余份), so a key with totals sums only those. A sum of lower bounds is a lower bound.
    """
    by_key: dict[object, list[Figured]] = {}
    for figure in figures:
        by_key.setdefault(figure.key, []).append(figure)
    totals = {}
    for key, group in by_key.items():
        chosen = [f for f in group if f.is_total] or group
        totals[key] = (sum((Decimal(f.value) for f in chosen), Decimal(0)), any(f.approx for f in chosen))
    return totals


def _totals(mentions: list[Mention]) -> dict:
    figures = (Figured(m.rule.key, m.figure.value, m.figure.approx, m.is_total) for m in mentions)
    return {key: as_number(value) for key, (value, _approx) in combine_totals(figures).items()}
