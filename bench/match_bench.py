"""Benchmark: one entry against 100,000 chats × 3 topics, through TopicIndex and a plain loop."""

from __future__ import annotations

import argparse
import gc
import random
import resource
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from itertools import accumulate
from pathlib import Path

from bot.topics.matcher import PreparedEntry, TopicIndex, matches, prepare
from bot.topics.query import InvalidQueryError, Query, parse_query

COUNTRIES = """
Russia Ukraine China Taiwan Japan India Pakistan Afghanistan Iran Iraq Syria Lebanon Israel
Jordan Egypt Libya Sudan Ethiopia Somalia Kenya Nigeria Niger Mali Chad Congo Rwanda Uganda
Tanzania Mozambique Zimbabwe Angola Namibia Botswana Senegal Ghana Cameroon Algeria Morocco
Tunisia Yemen Oman Qatar Bahrain Kuwait Turkey Greece Cyprus Italy France Spain Portugal Germany
Poland Hungary Austria Switzerland Belgium Netherlands Denmark Norway Sweden Finland Estonia
Latvia Lithuania Belarus Moldova Romania Bulgaria Serbia Croatia Bosnia Kosovo Albania Georgia
Armenia Azerbaijan Kazakhstan Uzbekistan Mongolia Vietnam Cambodia Laos Thailand Myanmar
Malaysia Singapore Indonesia Philippines Australia Canada Mexico Cuba Haiti Venezuela Colombia
Peru Brazil Argentina Chile Bolivia Ecuador Nicaragua Guatemala Honduras Panama Ireland Iceland
Britain Scotland Wales Bangladesh Nepal Sri Lanka
"""
MULTIWORD_PLACES = [
    "North Korea",
    "South Korea",
    "South Africa",
    "Saudi Arabia",
    "United States",
    "United Kingdom",
    "New Zealand",
    "Hong Kong",
    "Gaza Strip",
    "West Bank",
    "Black Sea",
    "Red Sea",
    "South China Sea",
    "Strait of Hormuz",
    "Sao Paulo",
    "New York",
    "Tel Aviv",
    "Buenos Aires",
    "El Salvador",
    "Costa Rica",
    "Sierra Leone",
    "Burkina Faso",
    "Ivory Coast",
    "Trinidad and Tobago",
    "Bosnia and Herzegovina",
]
CITIES = """
Moscow Kyiv Kiev Beijing Taipei Tokyo Delhi Islamabad Kabul Tehran Baghdad Damascus Beirut
Jerusalem Cairo Tripoli Khartoum Nairobi Lagos Abuja Paris London Berlin Rome Madrid Lisbon
Brussels Warsaw Budapest Vienna Geneva Athens Ankara Istanbul Minsk Bucharest Sofia Belgrade
Tbilisi Yerevan Baku Hanoi Bangkok Manila Jakarta Canberra Sydney Ottawa Washington Havana
Caracas Bogota Lima Brasilia Santiago Kharkiv Odesa Kherson Donetsk Luhansk Crimea Zaporizhzhia
Bakhmut Avdiivka Mariupol Aleppo Idlib Homs Mosul Basra Rafah Khan Younis Jenin Sanaa Aden
Davos Doha Riyadh Dubai Pyongyang Seoul Osaka Mumbai Karachi Dhaka Yangon Phnom Penh
"""
PEOPLE = [
    "Putin",
    "Zelensky",
    "Zelenskyy",
    "Biden",
    "Trump",
    "Harris",
    "Xi Jinping",
    "Kim Jong Un",
    "Kim Jong-un",
    "Netanyahu",
    "Erdogan",
    "Modi",
    "Macron",
    "Scholz",
    "Merz",
    "Starmer",
    "Sunak",
    "Meloni",
    "Orban",
    "Lula",
    "Milei",
    "Maduro",
    "Khamenei",
    "Pezeshkian",
    "Assad",
    "Sisi",
    "Lavrov",
    "Peskov",
    "Shoigu",
    "Navalny",
    "Blinken",
    "Rubio",
    "Vance",
    "Guterres",
    "Stoltenberg",
    "Rutte",
    "von der Leyen",
    "Lagarde",
    "Powell",
    "Musk",
    "Sinwar",
    "Nasrallah",
    "Kishida",
    "Ishiba",
    "Albanese",
    "Trudeau",
    "Carney",
    "Sheinbaum",
    "Ramaphosa",
    "Tinubu",
    "Abiy Ahmed",
    "Prabowo",
    "Marcos",
    "Lukashenko",
    "Prigozhin",
    "Tusk",
    "Fico",
    "Zelenska",
    "Yermak",
    "Syrskyi",
    "Gerasimov",
    "Medvedev",
    "Kadyrov",
    "Hegseth",
    "Witkoff",
    "Kellogg",
    "Grossi",
    "Tedros",
]
ORGANISATIONS = [
    "Nato",
    "UN",
    "EU",
    "IMF",
    "OPEC",
    "G7",
    "G20",
    "Brics",
    "Hamas",
    "Hezbollah",
    "Houthis",
    "Taliban",
    "Wagner",
    "Kremlin",
    "Pentagon",
    "White House",
    "Downing Street",
    "European Union",
    "United Nations",
    "Security Council",
    "World Bank",
    "European Commission",
    "Federal Reserve",
    "Bank of England",
    "International Criminal Court",
    "Red Cross",
    "Amnesty International",
    "Islamic State",
    "al-Qaeda",
    "Muslim Brotherhood",
    "African Union",
    "Arab League",
    "Supreme Court",
    "Congress",
    "Senate",
    "Parliament",
    "Duma",
    "Knesset",
    "IAEA",
    "Unicef",
    "Unrwa",
    "FBI",
    "CIA",
    "MI6",
    "Mossad",
]
THEMES = """
sanction ceasefire truce election vote referendum coup protest strike tariff trade inflation
recession interest rate oil gas pipeline nuclear missile drone airstrike offensive invasion
occupation annexation refugee migrant asylum border hostage prisoner exchange negotiation summit
treaty alliance aid weapon ammunition tank artillery troop soldier casualty civilian famine
earthquake flood wildfire hurricane typhoon drought climate emission pandemic vaccine outbreak
cholera election fraud corruption scandal impeachment resignation indictment trial verdict
sentence execution genocide massacre bombing shelling siege blockade embargo export import
currency debt bond default deficit budget spending austerity unemployment wage pension
shipping grain wheat fertiliser semiconductor chip espionage spy cyberattack hacker
disinformation propaganda censorship journalist dissident opposition activist crackdown
martial law curfew evacuation reconstruction investment loan bailout mining lithium cobalt
satellite rocket launch warship submarine navy airbase frontline counteroffensive mobilisation
conscription deserter mercenary militia insurgent rebel jihadist extremist terrorism kidnapping
assassination poisoning defector diplomat ambassador envoy embassy consulate visa deportation
"""
GENERAL = """
government minister president prime leader official spokesman spokeswoman country state city
region province capital military army force police security agency report statement meeting
talks deal agreement plan proposal policy law bill court judge case decision ruling week month
year day time people group party member million billion percent number price market economy
company industry bank fund money cost rise fall increase decrease attack strike war conflict
fighting violence crisis threat warning risk support pressure demand call response action
move step effort change issue problem question concern fear hope need right power control
role part side area village town district home family child woman man life death world nation
international national foreign domestic local regional global public private political economic
social military new old big small large major key main senior former current recent last next
early late high low strong weak long short first second third several many few other
announce approve reject accept agree refuse warn urge deny confirm claim accuse condemn criticise
welcome praise visit meet hold sign launch begin start end continue stop halt resume expand
reduce cut raise boost block ban suspend lift impose target hit kill wound injure arrest detain
release free capture seize destroy damage fire shoot bomb invade occupy withdraw retreat advance
defend protect secure threaten negotiate discuss consider propose plan prepare order send deploy
reach cross enter leave return flee escape rescue help provide deliver receive lose win gain
vote elect appoint replace dismiss resign investigate probe charge sentence convict acquit
"""
FILLER = """
the the the the the the a a a an of of of of to to to in in in and and and on for with at by
from as is was were be been has have had that this it its their they he she his her we our
said says will would could may might also but not more than after before over about into
against during while where when which who what there here up out new one two three some all
"""
INFLECTIONS = ("", "", "", "s", "ed", "ing", "'s", "’s")


def _names(text: str) -> list[str]:
    return text.split()


# News in other scripts, for runs with --non-latin: per script, the names and subjects people
# follow (most popular first), the words around them, the endings inflection adds, and how
# words are put together (CJK without spaces).
OTHER_SCRIPTS: dict[str, tuple[str, str, tuple[str, ...], str]] = {
    "russian": (
        "Путин Зеленский Москва Киев Кремль Лавров Навальный Трамп Китай Сирия Иран Минск Крым"
        " НАТО Евросоюз Пекин Вашингтон Берлин Шойгу Песков Донбасс Харьков Одесса Токаев",
        "санкции переговоры война мир армия выборы президент министр заявил встреча экономика"
        " нефть газ удар атака соглашение визит граница союз правительство закон суд рубль",
        ("", "", "а", "у", "ом", "е", "ы", "ов"),
        " ",
    ),
    "greek": (
        "Αθήνα Μητσοτάκης Τσίπρας Κύπρος Τουρκία Ευρώπη Βρυξέλλες Θεσσαλονίκη Ερντογάν Κρήτη"
        " Πειραιάς Ουκρανία Ρωσία Ισραήλ",
        "κυβέρνηση εκλογές σύνοδος υπουργός οικονομία μέτρα πρωθυπουργός βουλή συμφωνία"
        " πόλεμος ειρήνη σεισμός φωτιά κρίση τράπεζα",
        ("", "", "ς", "ου", "ων"),
        " ",
    ),
    "arabic": (
        "القاهرة الرياض دمشق بغداد غزة طهران بيروت عمّان السيسي نتنياهو حماس الأمم_المتحدة"
        " الخرطوم صنعاء الدوحة أنقرة واشنطن موسكو",
        "الحكومة الرئيس وزير الحرب السلام مفاوضات اتفاق عقوبات الجيش انتخابات الاقتصاد النفط"
        " هجوم قصف مساعدات لاجئين مجلس الأمن",
        ("", "", "ات", "ون", "ين"),
        " ",
    ),
    "persian": (
        "تهران اصفهان شیراز مشهد خامنه‌ای پزشکیان عراقچی آمریکا اسرائیل روسیه چین عربستان",
        "دولت مجلس انتخابات تحریم مذاکرات وزیر رئیس‌جمهور اقتصاد نفت جنگ صلح توافق",
        ("", "", "ها", "های"),
        " ",
    ),
    "hebrew": (
        "ירושלים נתניהו עזה חמאס חיזבאללה לבנון איראן וושינגטון הכנסת צה״ל",
        "ממשלה בחירות מלחמה הסכם שר ראש הממשלה כלכלה ביטחון חטופים הפגנה",
        ("",),
        " ",
    ),
    "chinese": (
        "北京 上海 习近平 台湾 香港 美国 俄罗斯 普京 特朗普 日本 欧盟 乌克兰 朝鲜 广州 深圳",
        "经济 贸易 会议 政府 军队 选举 制裁 谈判 关税 发展 合作 总统 外交部 发言人 表示",
        ("",),
        "",
    ),
    "japanese": (
        "東京 大阪 石破 トランプ 中国 韓国 北朝鮮 ロシア ウクライナ 沖縄 北海道 岸田",
        "経済 政府 選挙 地震 会談 首相 関税 防衛 発表 会見 予算 円安 株価",
        ("", "が", "は", "を", "の"),
        "",
    ),
    "korean": (
        "서울 부산 이재명 북한 김정은 미국 중국 일본 러시아 국회 청와대 대통령실",
        "정부 경제 선거 미사일 회담 대통령 관세 발표 국방 예산 수출 협상",
        ("", "이", "가", "을", "를", "에서", "의"),
        " ",
    ),
}


def vocabulary(rng: random.Random) -> tuple[list[str], list[str]]:
    """What people follow and feeds name, most popular first; and the words around them."""
    known = list(
        dict.fromkeys(
            PEOPLE
            + ORGANISATIONS
            + MULTIWORD_PLACES
            + _names(COUNTRIES)
            + _names(CITIES)
            + _names(THEMES)
        )
    )
    rng.shuffle(known)
    # Thousands more names: a feed mentions far more people and places than anyone follows.
    syllables = _names("ka lo mi ra sen tu vo zar be ni gor sha el an dro pe vi chen ko ta")
    invented = {
        "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))).capitalize()
        for _ in range(3000)
    }
    subjects = known + sorted(invented - {name.lower() for name in known})
    return subjects, _names(GENERAL) + _names(THEMES)


def zipf(rng: random.Random, items: Sequence[str], exponent: float = 1.0) -> Callable[[], str]:
    cumulative = list(accumulate(1 / (rank + 1) ** exponent for rank in range(len(items))))

    def draw() -> str:
        return rng.choices(items, cum_weights=cumulative, k=1)[0]

    return draw


def make_topics(
    rng: random.Random, subjects: list[str], words: list[str], count: int
) -> list[str]:
    """Topic texts in a realistic mix of forms, their subjects drawn Zipf-like."""
    subject = zipf(rng, subjects)
    word = zipf(rng, words)
    themes = _names(THEMES)
    topics: list[str] = []
    while len(topics) < count:
        kind = rng.random()
        if kind < 0.40:
            text = subject()
        elif kind < 0.55:
            text = f"{subject()} {rng.choice(themes)}"
        elif kind < 0.62:
            text = f"{word()} {subject()} {rng.choice(themes)}"
        elif kind < 0.75:
            text = " OR ".join(subject() for _ in range(rng.randint(2, 3)))
        elif kind < 0.85:
            text = f"{subject()} AND {subject()}"
        elif kind < 0.93:
            text = f"{subject()} -{subject().split()[0]}"
        else:
            text = f'"{subject()}"'
        topics.append(text)
    return topics


def make_other_script_topics(rng: random.Random, count: int) -> list[str]:
    """Topic texts in the other scripts, their subjects drawn Zipf-like within each."""
    draws = {
        script: (zipf(rng, _names(subjects)), zipf(rng, _names(words)))
        for script, (subjects, words, _, _) in OTHER_SCRIPTS.items()
    }
    topics: list[str] = []
    while len(topics) < count:
        subject, word = draws[rng.choice(list(draws))]
        kind = rng.random()
        if kind < 0.50:
            text = subject()
        elif kind < 0.70:
            text = f"{subject()} {word()}"
        elif kind < 0.85:
            text = " OR ".join(subject() for _ in range(rng.randint(2, 3)))
        elif kind < 0.95:
            text = f"{subject()} AND {word()}"
        else:
            text = f"{subject()} -{subject()}"
        topics.append(text.replace("_", " "))
    return topics


def make_other_script_entry(rng: random.Random, length: int = 300) -> tuple[str, str]:
    """A headline and text in one of the other scripts, about one to three of its subjects."""
    names, common, endings, joiner = OTHER_SCRIPTS[rng.choice(list(OTHER_SCRIPTS))]
    subjects = _names(names)
    subject = zipf(rng, subjects)
    word = zipf(rng, _names(common), 0.9)
    focus = [subject() for _ in range(rng.randint(1, 3))]

    def sentence(size: int) -> str:
        out: list[str] = []
        while len(out) < size:
            roll = rng.random()
            if roll < 0.12:
                out.append(rng.choice(focus) + rng.choice(endings))
            elif roll < 0.16:
                out.append(rng.choice(subjects))
            else:
                out.append(word() + rng.choice(endings))
        return joiner.join(out).replace("_", " ")

    title = sentence(rng.randint(6, 10))
    text: list[str] = []
    while sum(map(len, text)) < length * 5:
        text.append(sentence(rng.randint(8, 16)) + ("。" if not joiner else "."))
    return title, joiner.join(text)


def make_entry(
    rng: random.Random, subjects: list[str], words: list[str], length: int = 300
) -> tuple[str, str]:
    """A headline and text about one to three subjects, the popular ones more often."""
    subject = zipf(rng, subjects)
    word = zipf(rng, words, 0.9)
    focus = [subject() for _ in range(rng.randint(1, 3))]
    filler = _names(FILLER)

    def sentence(size: int) -> list[str]:
        out: list[str] = []
        while len(out) < size:
            roll = rng.random()
            if roll < 0.08:
                out.extend(rng.choice(focus).split())
            elif roll < 0.11:
                out.extend(rng.choice(subjects).split())  # a passing mention of anyone
            elif roll < 0.50:
                out.append(rng.choice(filler))
            else:
                out.append(word() + rng.choice(INFLECTIONS))
        return out

    title = " ".join(sentence(rng.randint(8, 12))).capitalize()
    text: list[str] = []
    while len(text) < length:
        text.extend(sentence(rng.randint(12, 25)))
        text[-1] += rng.choice([".", ".", ",", "”.", " —"])
    return title, " ".join(text[:length])


def resident_mb() -> float:
    """Resident memory of this process now (the peak where /proc is missing)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def build(
    topics: Sequence[tuple[int, int, Query]],
) -> tuple[TopicIndex, float]:
    index = TopicIndex()
    started = time.perf_counter()
    for topic_id, chat_id, query in topics:
        index.add(topic_id, chat_id, query)
    return index, time.perf_counter() - started


def add_and_remove(
    index: TopicIndex, query: Query, entry: PreparedEntry, rounds: int = 20
) -> tuple[float, float]:
    """Median times to add a topic to the built index and to remove it again.

    An entry is matched before each change, as in a running bot, so each change pays for
    copying the tables that the Routing handed out may still hold.
    """
    adds: list[float] = []
    removes: list[float] = []
    for _ in range(rounds):
        index.match(entry)
        adds.append(timed(lambda: index.add(0, 1, query)))
        index.match(entry)
        removes.append(timed(lambda: index.remove(0)))
    return statistics.median(adds), statistics.median(removes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chats", type=int, default=100_000)
    parser.add_argument("--topics-per-chat", type=int, default=3)
    parser.add_argument("--entries", type=int, default=200)
    parser.add_argument("--loop-entries", type=int, default=10, help="entries for the slow loop")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--non-latin",
        type=float,
        default=0.0,
        help="share of topics and entries in Cyrillic, Greek, Arabic, Hebrew and CJK scripts",
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)

    subjects, words = vocabulary(rng)
    total = args.chats * args.topics_per_chat
    others = round(total * args.non_latin)
    texts = make_topics(rng, subjects, words, total - others)
    texts += make_other_script_topics(rng, others)
    rng.shuffle(texts)
    entries = [
        make_other_script_entry(rng)
        if rng.random() < args.non_latin
        else make_entry(rng, subjects, words)
        for _ in range(args.entries)
    ]
    print(f"vocabulary: {len(subjects):,} names and subjects, {len(words):,} other words")
    if args.non_latin:
        print(
            f"non-Latin: {others:,} topics and about {args.non_latin:.0%} of entries in"
            f" {len(OTHER_SCRIPTS)} other scripts ({', '.join(OTHER_SCRIPTS)})"
        )

    parsed: dict[str, Query] = {}
    topics: list[tuple[int, int, Query]] = []
    for number, text in enumerate(texts):
        if text not in parsed:
            try:
                parsed[text] = parse_query(text, mode="topic")
            except InvalidQueryError:
                continue
        chat_id = -1_001_000_000_000 - number // args.topics_per_chat  # supergroup-like ids
        topics.append((number + 1, chat_id, parsed[text]))
    print(f"topics: {len(topics):,} for {args.chats:,} chats ({len(parsed):,} distinct texts)")

    gc.collect()
    before = resident_mb()
    index, built = build(topics)
    gc.collect()
    # What a long-running bot does once its topics are loaded: long-lived objects leave the
    # collector's generations, so building results never sets off a full collection.
    gc.freeze()
    after = resident_mb()
    print(
        f"index build: {built:.2f} s; {index.distinct_phrases:,} distinct phrases, "
        f"{index.distinct_queries:,} compiled AND/exclusion queries"
    )
    print(
        f"resident memory: {before:.0f} MB before, {after:.0f} MB after ({after - before:.0f} MB)"
    )

    prepare_times: list[float] = []
    match_times: list[float] = []
    items_times: list[float] = []
    prepared: list[PreparedEntry] = []
    fan_out: list[int] = []
    for number, (title, text) in enumerate(entries):
        started = time.perf_counter()
        # With its link and feed, as the router prepares it (site: and feed: need them).
        entry = prepare(
            title,
            text,
            link=f"https://www.news{number % 40}.example/{number}",
            feed_id=number % 40,
        )
        prepare_times.append(time.perf_counter() - started)
        # What every caller needs at once: the routing, and how many chats it reaches.
        started = time.perf_counter()
        routing = index.match(entry)
        reached = len(routing)
        match_times.append(time.perf_counter() - started)
        # What a caller writing one outbox row per chat then visits, apart from its own work,
        # and the freeing of what that built.
        started = time.perf_counter()
        for _chat_id, _topic_ids in routing.items():
            pass
        del routing
        items_times.append(time.perf_counter() - started)
        prepared.append(entry)
        fan_out.append(reached)
    median_match = statistics.median(match_times)
    per_chat = statistics.median(t / max(n, 1) for t, n in zip(match_times, fan_out, strict=True))
    per_item = statistics.median(t / max(n, 1) for t, n in zip(items_times, fan_out, strict=True))
    print(
        f"prepare (normalise title + text): median {ms(statistics.median(prepare_times))}, "
        f"p95 {ms(percentile(prepare_times, 0.95))}"
    )
    print(
        f"TopicIndex.match + len(routing): median {ms(median_match)}, "
        f"p95 {ms(percentile(match_times, 0.95))}"
    )
    print(
        f"  chats routed per entry: median {statistics.median(fan_out):,.0f}, "
        f"max {max(fan_out):,}; time per routed chat: median {per_chat * 1e6:.2f} µs"
    )
    for limit in (1_000, 5_000, 20_000):
        few = [t for t, n in zip(match_times, fan_out, strict=True) if n <= limit]
        if few:
            median = ms(statistics.median(few))
            print(f"  the {len(few)} entries routed to at most {limit:,} chats: median {median}")
    print(
        f"then a loop over routing.items(), each chat once with its topics: median "
        f"{ms(statistics.median(items_times))}, p95 {ms(percentile(items_times, 0.95))}; "
        f"per chat {per_item * 1e6:.2f} µs"
    )

    loop_times: list[float] = []
    ratios: list[float] = []
    full_ratios: list[float] = []  # against match, len and the loop over items() together
    agree = True
    for entry, indexed, visited in zip(
        prepared[: args.loop_entries], match_times, items_times, strict=False
    ):
        looped: dict[int, list[int]] = {}
        started = time.perf_counter()
        for topic_id, chat_id, query in topics:
            if matches(query, entry):
                looped.setdefault(chat_id, []).append(topic_id)
        loop_times.append(time.perf_counter() - started)
        ratios.append(loop_times[-1] / indexed)
        full_ratios.append(loop_times[-1] / (indexed + visited))
        routing = index.match(entry)
        pairs = list(routing.items())
        routed = {chat: sorted(ids) for chat, ids in pairs}
        agree = agree and len(pairs) == len(routing) == len(routed)
        agree = agree and routed == {chat: sorted(ids) for chat, ids in looped.items()}
    print(
        f"loop of matches() over every topic ({len(loop_times)} entries): "
        f"median {ms(statistics.median(loop_times))}; same routing as the index: {agree}"
    )
    print(
        f"speed-up of the index over the loop, entry by entry: median "
        f"{statistics.median(ratios):,.0f}×, lowest {min(ratios):,.0f}×; counting the loop "
        f"over items() too: median {statistics.median(full_ratios):,.0f}×, "
        f"lowest {min(full_ratios):,.0f}×"
    )

    most_followed, _ = Counter(texts).most_common(1)[0]
    for label, query in (
        ("a new phrase", parse_query("brand new topic", mode="topic")),
        (f"the most followed topic ({most_followed})", parsed[most_followed]),
    ):
        add, remove = add_and_remove(index, query, prepared[0])
        print(f"add / remove one topic on {label}: {ms(add)} / {ms(remove)}")


if __name__ == "__main__":
    main()
