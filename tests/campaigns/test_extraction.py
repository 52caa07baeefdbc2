import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govrisk.campaigns.extraction import INDICATORS, RULES, extract_indicators
from govrisk.campaigns.numerals import FOLD_WIDTH, NUMERAL_PATTERN, parse_numeral

SHARED = Path(__file__).resolve().parents[3] / "shared"
SAMPLES = SHARED / "samples" / "campaigns"
MENTION_KEYS = ["indicator", "value", "approx", "unit", "text", "start", "end"]


def sample(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


def brief(result: dict) -> list[tuple]:
    return [(m["indicator"], m["value"], m["approx"], m["unit"], m["text"]) for m in result["mentions"]]


def assert_nothing_taken_from(text: str, result: dict, decoys: list[str]) -> None:
    """No mention covers any occurrence of a decoy (a date, document number, list number …)."""
    for decoy in decoys:
        spots = [m.start() for m in re.finditer(re.escape(decoy), text)]
        assert spots, f"decoy {decoy!r} is not in the sample"
        for spot in spots:
            for m in result["mentions"]:
                assert not (m["start"] < spot + len(decoy) and spot < m["end"]), (decoy, m)


# --- report-02: the worked example --------------------------------------------------------------------------

# expected/report-02.json lists the mentions (with the phrase under "phrase", no offsets) and, in its note, says
# the leaflets total is the report's own 共…3000余份. The other totals follow the same rule: the figures in the
# 共 sentences (…宣传窗12个、…条幅26条、展板144块、…18块, …3000余份; 共清除…9处, …12张; 共计…8个) win.
REPORT_02_TOTALS = {
    "boards": 144,
    "banners": 26,
    "leaflets": 3000,
    "consultations": 180,
    "ads_removed": 21,
    "windows": 12,
    "led_screens": 18,
    "case_studies": 8,
}


def test_report_02_mentions_match_the_worked_example():
    expected = json.loads((SAMPLES / "expected" / "report-02.json").read_text(encoding="utf-8"))
    text = sample("report-02.txt")
    result = extract_indicators(text)
    as_in_file = [
        {key: m["text" if key == "phrase" else key] for key in want}
        for m, want in zip(result["mentions"], expected["mentions"], strict=False)
    ]
    assert len(result["mentions"]) == len(expected["mentions"])
    assert as_in_file == expected["mentions"]
    for m in result["mentions"]:
        assert list(m) == MENTION_KEYS
        assert text[m["start"] : m["end"]] == m["text"]
    assert_nothing_taken_from(text, result, expected["not_indicators"])


def test_report_02_totals_prefer_the_reports_own_totals():
    result = extract_indicators(sample("report-02.txt"))
    assert result["totals"] == REPORT_02_TOTALS
    assert list(result) == ["mentions", "totals"]


# --- the other samples: a careful reading finds no figures in them ---------------------------------------------


@pytest.mark.parametrize(
    "name, decoys",
    [
        # Names 张贴海报, 宣传单, LED电子屏 but never counts them.
        ("report-03.txt", ["一、", "二、", "张贴海报", "LED电子屏", "进一步"]),
        # Document number (国处非办(20xx)4号), dates xx月xx日, list numbering 1、 2、 (一)…(四).
        ("report-04.txt", ["20xx年", "(20xx)4号", "xx月xx日", "1、", "2、", "(一)", "(四)", "共同守护"]),
        # 国务院737号令, list numbers inside a quoted slogan, and a rate (每月一次) next to 周三.
        ("report-05.txt", ["737号令", "20xx年", "“1、", ";2、", "每月一次", "周三学习日"]),
        ("report-07.txt", ["一是", "二是", "三是", "老百姓"]),
        # Four numbered activities (1、…4、) that name 宣传手册, LED屏, 朋友圈 with no figures.
        ("report-08.txt", ["20xx年", "1、", "2、", "3、", "4、", "宣传手册", "LED屏"]),
        ("report-09.txt", ["一夜暴富", "电子屏宣传标语"]),
        ("report-10.txt", ["下一步", "折页"]),
        ("report-11.txt", ["20xx年", "横幅", "宣传手册"]),
    ],
)
def test_samples_without_figures_yield_none(name, decoys):
    text = sample(name)
    result = extract_indicators(text)
    assert result == {"mentions": [], "totals": {}}
    assert_nothing_taken_from(text, result, decoys)


@pytest.mark.parametrize(
    "name, old, new, mention",
    [
        # The same passages once a figure is written in: list numbers and document numbers next to it stay out.
        ("report-04.txt", "摆放海报、", "摆放海报200张、", ("posters", 200, False, "张", "海报200张")),
        ("report-05.txt", "发放宣传折页", "发放宣传折页1200余份", ("leaflets", 1200, True, "份", "宣传折页1200余份")),
        ("report-08.txt", "发放宣传手册。", "发放宣传手册三百本。", ("leaflets", 300, False, "本", "宣传手册三百本")),
        ("report-11.txt", "在大堂悬挂横幅", "在大堂悬挂横幅2条", ("banners", 2, False, "条", "横幅2条")),
    ],
)
def test_a_figure_written_into_a_sample_is_the_only_mention(name, old, new, mention):
    text = sample(name)
    assert text.count(old) == 1
    assert brief(extract_indicators(text.replace(old, new))) == [mention]


# --- one small case per rule --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, mention",
    [
        # every indicator of domain/campaign-indicators.md; the mention's text starts at the noun, not the verb
        ("出动工作人员50人次", ("staff_turnout", 50, False, "人次", "工作人员50人次")),
        ("组织20名志愿者发放宣传资料", ("staff_turnout", 20, False, "名", "20名志愿者")),
        ("出动流动宣传车3辆", ("vehicles", 3, False, "辆", "流动宣传车3辆")),
        ("悬挂横幅20条", ("banners", 20, False, "条", "横幅20条")),
        ("张贴海报100张", ("posters", 100, False, "张", "海报100张")),
        ("发放宣传资料3000份", ("leaflets", 3000, False, "份", "宣传资料3000份")),
        ("宣传资料发放3000份", ("leaflets", 3000, False, "份", "发放3000份")),
        ("摆放展板10块", ("boards", 10, False, "块", "展板10块")),
        ("利用LED电子屏12块", ("led_screens", 12, False, "块", "LED电子屏12块")),
        ("更新宣传栏6期", ("windows", 6, False, "期", "宣传栏6期")),
        ("接受咨询200人次", ("consultations", 200, False, "人次", "咨询200人次")),
        ("覆盖群众5000余人", ("audience", 5000, True, "人", "覆盖群众5000余人")),
        ("吸引300余名群众驻足观看宣传展板", ("audience", 300, True, "名", "300余名群众")),
        ("开展集中宣传活动3场", ("events", 3, False, "场", "集中宣传活动3场")),
        ("举办专题培训5期", ("trainings", 5, False, "期", "培训5期")),
        ("参训人员300余人", ("trainees", 300, True, "人", "参训人员300余人")),
        ("组织员工120人次参加培训", ("trainees", 120, False, "人次", "120人次参加培训")),
        ("刊发宣传文章12篇", ("articles", 12, False, "篇", "宣传文章12篇")),
        ("播放公益广告30次", ("public_ads", 30, False, "次", "公益广告30次")),
        ("媒体报道15次", ("media_reports", 15, False, "次", "媒体报道15次")),
        ("微信推送20条", ("new_media_posts", 20, False, "条", "微信推送20条")),
        ("铲除小广告120处", ("ads_removed", 120, False, "处", "小广告120处")),
        ("清理广告50张", ("ads_removed", 50, False, "张", "广告50张")),
        ("没收传单300份", ("flyers_confiscated", 300, False, "份", "传单300份")),
        ("发放传单300份", ("leaflets", 300, False, "份", "传单300份")),
        ("封堵网络不良信息50条", ("online_blocked", 50, False, "条", "网络不良信息50条")),
        ("发现涉嫌非法集资线索3条", ("clues", 3, False, "条", "线索3条")),
        ("参与单位15家", ("participating_units", 15, False, "家", "参与单位15家")),
        ("组织15家银行机构参与", ("participating_units", 15, False, "家", "15家银行机构")),
        ("召开防范非法集资座谈会，共50人参加", ("attendees", 50, False, "人", "座谈会，共50人")),
        ("参会人员80人", ("attendees", 80, False, "人", "参会人员80人")),
        ("签订承诺书200份", ("commitments", 200, False, "份", "承诺书200份")),
        ("剖析典型案例5个", ("case_studies", 5, False, "个", "典型案例5个")),
        ("立案3起", ("cases_filed", 3, False, "起", "立案3起")),
        ("涉案人员20人", ("persons_involved", 20, False, "人", "涉案人员20人")),
        ("涉案15人", ("persons_involved", 15, False, "人", "涉案15人")),
        ("涉案金额1.2亿元", ("amount_yuan", 120000000, False, "元", "涉案金额1.2亿元")),
        ("涉案金额3500万元", ("amount_yuan", 35000000, False, "元", "涉案金额3500万元")),
        # numeral forms
        ("发放宣传资料两千份", ("leaflets", 2000, False, "份", "宣传资料两千份")),
        ("刊发文章两篇", ("articles", 2, False, "篇", "文章两篇")),
        ("发放宣传资料一百零五份", ("leaflets", 105, False, "份", "宣传资料一百零五份")),
        ("发放宣传资料1,500份", ("leaflets", 1500, False, "份", "宣传资料1,500份")),
        ("发放宣传资料１５００份", ("leaflets", 1500, False, "份", "宣传资料１５００份")),
        ("发放宣传资料1.2万份", ("leaflets", 12000, False, "份", "宣传资料1.2万份")),
        ("发放宣传资料3千余份", ("leaflets", 3000, True, "份", "宣传资料3千余份")),
        ("涉案金额三十余万元", ("amount_yuan", 300000, True, "元", "涉案金额三十余万元")),
        ("开展宣讲三十余场", ("events", 30, True, "场", "宣讲三十余场")),
        ("开展讲座十几场", ("events", 10, True, "场", "讲座十几场")),
        ("开展宣讲十来场", ("events", 10, True, "场", "宣讲十来场")),
        ("开展宣讲三四场", ("events", 3, True, "场", "宣讲三四场")),
        # approx markers
        ("发放宣传资料3000多份", ("leaflets", 3000, True, "份", "宣传资料3000多份")),
        ("受众近万人", ("audience", 10000, True, "人", "受众近万人")),
        ("受众达上万人次", ("audience", 10000, True, "人次", "受众达上万人次")),
        ("发放宣传资料约500份", ("leaflets", 500, True, "份", "宣传资料约500份")),
        ("发放宣传资料大约500份", ("leaflets", 500, True, "份", "宣传资料大约500份")),
        ("受众逾5000人次", ("audience", 5000, True, "人次", "受众逾5000人次")),
        ("受众超5000人次", ("audience", 5000, True, "人次", "受众超5000人次")),
        ("受众超过5000人次", ("audience", 5000, True, "人次", "受众超过5000人次")),
        ("受众将近5000人次", ("audience", 5000, True, "人次", "受众将近5000人次")),
        ("发放宣传资料500份左右", ("leaflets", 500, True, "份", "宣传资料500份左右")),
        ("受众5000人次以上", ("audience", 5000, True, "人次", "受众5000人次以上")),
        ("吸引附近500名群众", ("audience", 500, False, "名", "500名群众")),  # 附近 is "nearby", not 近 "nearly"
        # figures next to things that are not figures
        ("2024年6月发放宣传资料300份", ("leaflets", 300, False, "份", "宣传资料300份")),
        ("6月15日开展集中宣传活动3场", ("events", 3, False, "场", "集中宣传活动3场")),
        ("根据银发〔2023〕12号文件发放宣传资料80份", ("leaflets", 80, False, "份", "宣传资料80份")),
        ("五一期间开展宣讲3场", ("events", 3, False, "场", "宣讲3场")),
    ],
)
def test_rules(text, mention):
    assert brief(extract_indicators(text)) == ([mention] if mention else [])


@pytest.mark.parametrize(
    "text",
    [
        "20xx年",
        "2024年6月",
        "6月15日",
        "根据〔2024〕88号文件",
        "银发〔2023〕12号",
        "国务院737号令",
        "一、加强组织领导",
        "1、公众教育区摆放海报",
        "1.公众教育区摆放海报",
        "（一）立足厅堂",
        "(1)进店宣传",
        "一是立足网点宣传",
        "第一期宣传栏",
        "第3次集中宣传活动",
        "选择了三种宣传手段",
        "从六方面内容进行了表述",
        "两个宣传群体",
        "两个层面的宣传窗",
        "三个层面开展宣传活动",
        "连续3个月开展宣传活动",
        "每月一次的学习活动",
        "每户发放宣传资料1份",
        "人均发放宣传资料2份",
        "与群众一起参与宣传活动",
        "结合典型案例一起学习",
        "十一期间开展培训",
        "老百姓",
        "千家万户",
        "投放广告50张",  # 广告 counts as removed ads only after 清除/清理/铲除
        "营造良好的宣传氛围",
    ],
)
def test_not_indicators(text):
    assert extract_indicators(text) == {"mentions": [], "totals": {}}


# --- totals ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, totals",
    [
        ("发放宣传资料1500份，展板10块。", {"leaflets": 1500, "boards": 10}),
        ("社区发放宣传资料1500份。学校发放宣传资料500份。", {"leaflets": 2000}),
        ("社区发放宣传资料1500余份。活动中共发放宣传资料3000余份。", {"leaflets": 3000}),
        ("发放宣传资料1500份。累计发放宣传资料3000份。", {"leaflets": 3000}),
        ("发放宣传资料1500份。合计发放宣传资料3000份。", {"leaflets": 3000}),
        ("共清除小广告9处，广告名片12张。", {"ads_removed": 21}),
        ("共发放宣传资料3000份，其中社区发放宣传资料1000份。", {"leaflets": 3000}),
        ("发放宣传资料50份。共同开展宣传，发放宣传资料100份。", {"leaflets": 150}),
        ("在公共场所发放宣传资料50份。发放宣传资料100份。", {"leaflets": 150}),
        ("涉案金额1.5亿元。另一案件涉案金额3000万元。", {"amount_yuan": 180000000}),
        ("发放宣传资料0.5万份，宣传资料0.25万份", {"leaflets": 7500}),
    ],
)
def test_totals(text, totals):
    assert extract_indicators(text)["totals"] == totals


# --- the indicator table ------------------------------------------------------------------------------------


def doc_table() -> dict[str, tuple[str, list[str]]]:
    doc = (SHARED / "domain" / "campaign-indicators.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(\w+)` \| ([^|]+) \| ([^|]+) \|", doc, re.M)
    return {key: (title.strip(), re.findall(r"[\u4e00-\u9fff]+", units.split("(")[0])) for key, title, units in rows}


def test_indicators_mirror_the_domain_table():
    table = doc_table()
    assert len(table) == 28
    assert list(INDICATORS) == list(table)
    for key, (title, units) in table.items():
        assert INDICATORS[key] == (title, units[0])
        assert INDICATORS[key].title == title
    for rule in RULES:
        assert set(table[rule.key][1]) <= set(rule.units), rule.key


# --- properties ---------------------------------------------------------------------------------------------

FRAGMENTS = [
    *"0123456789一二两三四五六七八九十百千万亿零几数余多来.,，、。；：（）()〔〕第每共其中约近逾超上",
    *"20xx年 6月15日 〔2024〕88号 一、 1、 （一） 其中 累计 左右 以上 1,500".split(),
    *{u for rule in RULES for u in rule.units},
    *{n for rule in RULES for n in rule.nouns},
    *{v for rule in RULES for v in rule.verbs},
    *"社区 非法 宣传 墙面 群体 方面 种 个月 期间 座谈会 共同 公共 中共 活动中".split(),
]
campaign_text = st.one_of(st.text(), st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join))


def numbers_in(text: str) -> set:
    found = set()
    for match in re.finditer(NUMERAL_PATTERN, text.translate(FOLD_WIDTH)):
        numeral = parse_numeral(match.group())
        if numeral:
            found.add(numeral.value)
    return found


@given(campaign_text)
def test_output_is_well_formed_for_any_text(text):
    result = extract_indicators(text)
    assert list(result) == ["mentions", "totals"]
    for m in result["mentions"]:
        assert list(m) == MENTION_KEYS
        assert m["indicator"] in INDICATORS
        assert 0 <= m["start"] < m["end"] <= len(text)
        assert text[m["start"] : m["end"]] == m["text"]
        assert m["value"] in numbers_in(m["text"])
        assert m["unit"] in m["text"]
        assert m["value"] >= 0
    assert all(value >= 0 for value in result["totals"].values())
    assert set(result["totals"]) == {m["indicator"] for m in result["mentions"]}
    json.dumps(result, ensure_ascii=False)


@given(st.integers(0, 10**9), st.sampled_from(RULES).filter(lambda rule: rule.nouns))
def test_a_noun_then_a_number_then_a_unit_is_found(n, rule):
    text = f"，{rule.nouns[0]}{n}{rule.units[0]}。"
    found = [(m["indicator"], m["value"]) for m in extract_indicators(text)["mentions"]]
    assert found == [(rule.key, n)]
