"""Topics and searches in every script: one table that the matcher and /search both answer."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Story:
    title: str
    text: str = ""
    link: str = "https://news.example/story"


@dataclasses.dataclass(frozen=True)
class Script:
    """Stories in one script or language, and what each query finds among them.

    Every query means the same as a topic and as a search (single words, quoted phrases,
    OR, exclusions and the source and field terms), so both must find exactly these stories.
    """

    name: str
    stories: tuple[Story, ...]
    finds: tuple[tuple[str, frozenset[int]], ...]

    def __str__(self) -> str:
        return self.name


def script(name: str, stories: list[Story], finds: dict[str, set[int]]) -> Script:
    return Script(
        name,
        tuple(stories),
        tuple((query, frozenset(found)) for query, found in finds.items()),
    )


SCRIPTS = [
    script(
        "greek",
        [
            Story("ΣΥΝΟΔΟΣ ΚΟΡΥΦΗΣ ΣΤΙΣ ΒΡΥΞΕΛΛΕΣ", link="https://www.kathimerini.gr/a"),
            Story("Η Αθήνα μετά τη σύνοδο", "Οι υπουργοί της συνόδου συμφώνησαν."),
            Story("Θεσσαλονίκη: νέα μέτρα", "Ο δήμαρχος μίλησε.", link="https://ertnews.gr/b"),
        ],
        {
            "Σύνοδος": {0, 1},  # tonos and final sigma folded, inflections stemmed
            "συνόδου": {0, 1},
            "Αθήνα": {1},
            "ΑΘΗΝΑ -σύνοδος": set(),
            "Θεσσαλονίκη": {2},
            "site:kathimerini.gr": {0},
            "title:Σύνοδος": {0, 1},
        },
    ),
    script(
        "russian",
        [
            Story("Путина встретили в Москве", "Визит продлится два дня."),
            Story("Байден позвонил Путину", "Разговор длился час.", link="https://ria.ru/1"),
            Story("Путевка в Сочи подорожала", "Новогодняя ёлка на площади."),
        ],
        {
            "Путин": {0, 1},
            "ПУТИНА": {0, 1},
            "Путин -Байден": {0},
            "елка": {2},  # ё is typed as е
            "Сочи OR Москва": {0, 2},
            "site:ria.ru": {1},
            "title:Путин": {0, 1},
        },
    ),
    script(
        "ukrainian",
        [
            Story("КИЇВ ГОТУЄТЬСЯ ДО ЗИМИ", "Зеленський провів нараду."),
            Story("Заява Зеленського", "Президент звернувся до парламенту."),
            Story("Кий, Щек і Хорив", "Легенда про заснування міста."),
        ],
        {
            "Київ": {0},
            "Зеленський": {0, 1},
            "Кий": {2},
            "title:Зеленського": {1},
            "parlament": set(),
        },
    ),
    script(
        "arabic",
        [
            Story("مُحَمَّد يزور القاهرة", "زيارة رسمية لمدة يومين.", link="https://aljazeera.net/x"),
            Story("احمد في الرياض", "مدرسه جديدة في المدينة"),
            Story("الكتاب الجديد", "معرض الكتاب في الرياض"),
        ],
        {
            "محمد": {0},  # harakat and shadda go
            "أحمد": {1},  # alef with hamza is alef
            "مدرسة": {1},  # ta marbuta is heh
            "كتاب": {2},  # the article al- is stemmed away
            "الرياض -كتاب": {1},
            "site:aljazeera.net": {0},
            "title:الرياض": {1},
        },
    ),
    script(
        "persian",
        [
            Story("كتاب جديد منتشر شد", "ناشر در ايران"),  # written with Arabic kaf and yeh
            Story("کتابها در کتابخانه ملی", "تهران"),
            Story("اصفهان زیبا", "سفر به اصفهان", link="https://www.bbc.com/persian/1"),
            Story("دانشجویان دانشگاه", "اعتراض در شیراز"),
        ],
        {
            "دانشجو": {3},  # stemmed in Persian: Arabic's stemmer would leave دانشجوي
            "ایران": {0},  # Persian yeh is Arabic yeh
            "کتاب": {0, 1},  # Persian kaf, and the Persian plural -ha stemmed
            "تهران": {1},
            "اصفهان": {2},
            "site:bbc.com": {2},
        },
    ),
    script(
        "hebrew",
        [
            Story("שָׁלוֹם עֲלֵיכֶם", "ברכה עתיקה"),
            Story("ירושלים בלילה", "תיירים רבים", link="https://www.haaretz.co.il/1"),
            Story("תל אביב", "חוף הים"),
        ],
        {
            "שלום": {0},  # niqqud goes
            "ירושלים": {1},
            "חוף": {2},
            "site:haaretz.co.il": {1},
            "title:תל": {2},
        },
    ),
    script(
        "chinese",
        [
            Story("今天上海下雨", "气温下降。"),
            Story("北京举行会议", "上海代表出席", link="https://www.xinhuanet.com/1"),
            Story("东京都知事选举", "投票率上升"),
        ],
        {
            "上海": {0, 1},  # a word inside a sentence written without spaces
            "上海下雨": {0},
            "北京": {1},
            "title:上海": {0},
            "广州": set(),
            "site:xinhuanet.com -北京": set(),
            "京都": {2},  # a false match bigrams allow: 京都 inside 东京都
        },
    ),
    script(
        "japanese",
        [
            Story("東京都で地震", "震度四を観測した。"),
            Story("トランプ氏が来日", "首相と会談", link="https://www3.nhk.or.jp/news/1"),
            Story("ｶﾞｽ料金が値上げ", "大阪でも"),
        ],
        {
            "東京": {0},
            "トランプ": {1},
            "ガス": {2},  # halfwidth katakana is fullwidth
            "大阪": {2},
            "site:nhk.or.jp": {1},
            "title:大阪": set(),
        },
    ),
    script(
        "korean",
        [
            Story("서울에서 비가 내린다", "주말까지 계속"),
            Story("북한이 미사일 발사", "합참 발표", link="https://www.yna.co.kr/1"),
            Story("부산 국제영화제", "개막"),
        ],
        {
            "서울": {0},  # a particle written onto the word
            "북한": {1},
            "부산 OR 서울": {0, 2},
            "site:yna.co.kr": {1},
            "title:개막": set(),
            "대구": set(),
        },
    ),
    script(
        "turkish",
        [
            Story("Kılıçdaroğlu İstanbul'da konuştu", "Seçim kampanyası sürüyor."),
            Story(
                "ERDOĞAN’IN AÇIKLAMASI", "Ankara'da basın toplantısı", link="https://trt.net.tr/1"
            ),
            Story("İzmir'de deprem", ""),
        ],
        {
            "Kilicdaroglu": {0},  # dotless ı is i
            "istanbul": {0},
            "Erdoğan": {1},
            "İZMİR": {2},
            "Ankara -Erdoğan": set(),
            "site:trt.net.tr": {1},
        },
    ),
    script(
        "german",
        [
            Story("Straße in Berlin gesperrt", "Die STRASSE bleibt zu."),
            Story("Merkels Nachfolger", "Die Ära Merkel endet.", link="https://www.spiegel.de/1"),
            Story("Bern stimmt ab", "Die Schweiz wählt."),
        ],
        {
            "Strasse": {0},  # ß is ss
            "Straße": {0},
            "Merkel": {1},
            "Berlin": {0},
            "title:Merkel": {1},
            "site:spiegel.de": {1},
        },
    ),
    script(
        "french",
        [
            Story("Cœur de Paris", "Le cœur de la ville.", link="https://www.lemonde.fr/1"),
            Story("Élections présidentielles", "L'Élysée attend les résultats."),
            Story("Noël à Lyon", ""),
        ],
        {
            "coeur": {0},  # œ is oe
            "élection": {1},
            "Elysée": {1},
            "Noel": {2},
            "site:lemonde.fr": {0},
            "title:Élysée": set(),
        },
    ),
    script(
        "spanish",
        [
            Story(
                "Nuevas SANCIONES a Rusia", "El gobierno de España", link="https://elpais.com/1"
            ),
            Story("Peña Nieto declara", "En México"),
            Story("Año nuevo en Madrid", ""),
        ],
        {
            "sanción": {0},
            "Pena": {1},
            "Mexico": {1},
            "site:elpais.com sanción": {0},
            "title:España": set(),
            "Madrid -Mexico": {2},
        },
    ),
    script(
        "vietnamese",
        [
            Story("Hà Nội mưa lớn", "Nhiều tuyến phố ngập."),
            Story("Đà Nẵng đón khách", "Du lịch tăng", link="https://vnexpress.net/1"),
            Story("Hà Nam", ""),
        ],
        {
            "Ha Noi": {0},
            '"hà nội"': {0},
            "Da Nang": {1},
            "site:vnexpress.net": {1},
            "title:ngập": set(),
        },
    ),
]
