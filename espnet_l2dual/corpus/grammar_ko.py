"""A small Korean grammar of our own for the synthetic ``mini`` corpus.

Why hand-made: the corpus must be generated on a fresh machine with no data,
and its sentences must be rich in the contexts where Korean pronunciation
rules fire (coda + vowel-initial particle -> liaison, ㄱ+ㅁ -> nasalisation,
ㅎ+stop -> aspiration, ㄷ/ㅌ+이 -> palatalisation, ㄴ+ㄹ -> lateralisation,
obstruent+obstruent -> tensification), so the lexicon favours such words.

Sentences are SOV clauses from a few templates, 3-15 eojeol, with particles
chosen by whether the noun ends in a consonant (이/가, 을/를, 은/는, 과/와, 으로/로).
``generate_sentences(n, rng)`` is deterministic for a given ``random.Random`` state.
"""

from __future__ import annotations

import random
from typing import Callable, List, Set

from espnet_l2dual.text.hangul import decompose, Syllable
from espnet_l2dual.corpus.sentences import sample_sentences

PEOPLE = (
    "학생 선생님 친구 동생 형 누나 언니 오빠 아버지 어머니 할머니 할아버지 아들 딸 남편 아내 "
    "의사 간호사 경찰 요리사 기자 가수 배우 손님 사장님 직원 이웃 아이 어른 남학생 여학생 "
    "박사님 삼촌 이모 고모 사촌 동료 선배 후배 부모님 옆집 사람"
).split()

FOODS = (
    "밥 국 국밥 김치 떡 빵 고기 생선 과일 사과 배 귤 수박 딸기 라면 냉면 물냉면 비빔밥 "
    "떡볶이 김밥 불고기 갈비 된장국 미역국 잡채 만두 죽 계란 우유 물 커피 녹차 주스 술 맥주 "
    "국물 콩 팥 밤 옥수수 감자 고구마 양파 파 마늘 참외 포도 복숭아 닭고기 돼지고기 쌀"
).split()

THINGS = (
    "책 책상 의자 연필 공책 가방 옷 신발 모자 꽃 꽃다발 편지 엽서 잡지 신문 사진 그림 시계 "
    "우산 안경 지갑 열쇠 컴퓨터 전화 숙제 접시 컵 칼 숟가락 젓가락 선물 표 돈 약 창문 문 "
    "이불 베개 장갑 목도리 부엌칼 필통 색연필 일기 악기 피아노 기타 공 자전거 자동차 밭 솥 "
    "햇볕 끝 무릎 꽃병 낙엽 물건 음식 음악 노래 영화 연락 소식 이름 생각 이야기"
).split()

PLACES = (
    "학교 집 식당 약국 병원 시장 도서관 박물관 회사 교실 공원 극장 은행 우체국 백화점 "
    "서점 빵집 꽃집 역 공항 정류장 운동장 수영장 미술관 부엌 방 거실 마당 산 강 바다 "
    "숲 길 시골 도시 신라 한라산 서울 부산 광주 대전 목포 독립문 편의점 체육관 식물원 동물원"
).split()

TIMES = (
    "오늘 어제 내일 아침 저녁 밤 낮 주말 요즘 지금 설날 방학 작년 올해 내년 "
    "월요일 금요일 일요일 점심 새벽"
).split()

# (stem, polite present form)
VERBS_FOOD = [
    ("먹", "먹어요"), ("만들", "만들어요"), ("사", "사요"), ("팔", "팔아요"), ("좋아하", "좋아해요"),
    ("싫어하", "싫어해요"), ("찾", "찾아요"), ("씻", "씻어요"), ("굽", "구워요"), ("넣", "넣어요"),
    ("놓", "놓아요"), ("받", "받아요"), ("나누", "나눠요"), ("남기", "남겨요"), ("섞", "섞어요"),
]
VERBS_THING = [
    ("읽", "읽어요"), ("닫", "닫아요"), ("찾", "찾아요"), ("잃", "잃어요"), ("빌리", "빌려요"),
    ("씻", "씻어요"), ("입", "입어요"), ("벗", "벗어요"), ("받", "받아요"), ("보내", "보내요"),
    ("잡", "잡아요"), ("접", "접어요"), ("쓰", "써요"), ("그리", "그려요"), ("고치", "고쳐요"),
    ("들", "들어요"), ("놓", "놓아요"), ("쌓", "쌓아요"), ("가르치", "가르쳐요"), ("기억하", "기억해요"),
    ("준비하", "준비해요"), ("정리하", "정리해요"), ("확인하", "확인해요"), ("잊", "잊어요"), ("묻", "묻어요"),
]
VERBS_MOTION = [
    ("가", "가요"), ("오", "와요"), ("다니", "다녀요"), ("돌아가", "돌아가요"), ("들어가", "들어가요"),
    ("나가", "나가요"), ("올라가", "올라가요"), ("내려가", "내려가요"), ("뛰어가", "뛰어가요"), ("걸어가", "걸어가요"),
]
VERBS_INTRANS = [
    ("자", "자요"), ("웃", "웃어요"), ("울", "울어요"), ("일하", "일해요"), ("공부하", "공부해요"),
    ("쉬", "쉬어요"), ("놀", "놀아요"), ("앉", "앉아요"), ("살", "살아요"), ("운동하", "운동해요"),
    ("식사하", "식사해요"), ("노래하", "노래해요"), ("연습하", "연습해요"), ("기다리", "기다려요"), ("입학하", "입학해요"),
    ("축하하", "축하해요"), ("숨", "숨어요"), ("춤추", "춤춰요"), ("산책하", "산책해요"), ("졸업하", "졸업해요"),
]

# (stem, polite present, adnominal)
ADJECTIVES = [
    ("좋", "좋아요", "좋은"), ("많", "많아요", "많은"), ("괜찮", "괜찮아요", "괜찮은"), ("크", "커요", "큰"),
    ("작", "작아요", "작은"), ("높", "높아요", "높은"), ("낮", "낮아요", "낮은"), ("넓", "넓어요", "넓은"),
    ("좁", "좁아요", "좁은"), ("맑", "맑아요", "맑은"), ("밝", "밝아요", "밝은"), ("같", "같아요", "같은"),
    ("깊", "깊어요", "깊은"), ("짧", "짧아요", "짧은"), ("길", "길어요", "긴"), ("싸", "싸요", "싼"),
    ("비싸", "비싸요", "비싼"), ("맛있", "맛있어요", "맛있는"), ("재미있", "재미있어요", "재미있는"),
    ("멋있", "멋있어요", "멋있는"), ("깨끗하", "깨끗해요", "깨끗한"), ("따뜻하", "따뜻해요", "따뜻한"),
    ("착하", "착해요", "착한"), ("급하", "급해요", "급한"), ("똑똑하", "똑똑해요", "똑똑한"),
    ("복잡하", "복잡해요", "복잡한"), ("조용하", "조용해요", "조용한"), ("편하", "편해요", "편한"),
    ("빠르", "빨라요", "빠른"), ("느리", "느려요", "느린"), ("늦", "늦어요", "늦은"), ("젊", "젊어요", "젊은"),
    ("얇", "얇아요", "얇은"), ("굵", "굵어요", "굵은"), ("붉", "붉어요", "붉은"), ("검", "검어요", "검은"),
    ("희", "희어요", "흰"), ("짙", "짙어요", "짙은"), ("낡", "낡아요", "낡은"), ("옳", "옳아요", "옳은"),
    ("싫", "싫어요", "싫은"), ("행복하", "행복해요", "행복한"), ("특별하", "특별해요", "특별한"),
]

ADVERBS = (
    "빨리 천천히 정말 아주 매우 많이 같이 굳이 잘 자주 다시 먼저 함께 일찍 늦게 조금 벌써 "
    "아직 항상 가끔 열심히 급히 똑바로 꼭 특히 역시 곧 이미 오래 너무 깨끗이 솔직히 확실히 "
    "똑같이 곧바로 밖에서 몰래 잠깐"
).split()

PARTICLES = ("이 가 을 를 은 는 에 에서 으로 로 과 와 도 만 보다 하고 의 까지 부터").split()


def has_coda(word: str) -> bool:
    syl = decompose(word[-1])
    return bool(syl and syl.final)


def _particle(noun: str, with_coda: str, without: str) -> str:
    return noun + (with_coda if has_coda(noun) else without)


def subj(n: str) -> str: return _particle(n, "이", "가")  # noqa: E704
def obj(n: str) -> str: return _particle(n, "을", "를")  # noqa: E704
def topic(n: str) -> str: return _particle(n, "은", "는")  # noqa: E704
def with_(n: str) -> str: return _particle(n, "과", "와")  # noqa: E704


def direction(n: str) -> str:
    last = decompose(n[-1])
    return n + ("으로" if last and last.final and last.final != "ㄹ" else "로")


def _add_coda(stem: str, coda: str) -> str:
    """Replace the last syllable's coda (e.g. 가 + ㅂ -> 갑)."""
    last = decompose(stem[-1])
    return stem[:-1] + Syllable(last.initial, last.medial, coda).compose()


def _drop_l(stem: str) -> str:
    """ㄹ-stems lose their ㄹ before ㄴ/ㅂ/ㅅ endings (살 -> 사는, 삽니다)."""
    last = decompose(stem[-1])
    if last.final == "ㄹ":
        return stem[:-1] + Syllable(last.initial, last.medial, "").compose()
    return stem


def formal(stem: str) -> str:
    """-습니다 / -ㅂ니다 (먹습니다, 갑니다, 삽니다 from 살)."""
    base = _drop_l(stem)
    return base + "습니다" if has_coda(base) else _add_coda(base, "ㅂ") + "니다"


def past(polite: str) -> str:
    """먹어요 -> 먹었어요, 가요 -> 갔어요, 해요 -> 했어요."""
    return _add_coda(polite[:-1], "ㅆ") + "어요"


def adnominal(stem: str) -> str:
    return _drop_l(stem) + "는"


def _verb_form(rng: random.Random, verb) -> List[str]:
    stem, polite = verb
    kind = rng.randrange(7)
    if kind == 0:
        return [polite]
    if kind == 1:
        return [past(polite)]
    if kind == 2:
        return [formal(stem)]
    if kind == 3:
        return [stem + "고", "싶어요"]
    if kind == 4:
        return [stem + "지", rng.choice(["않아요", "않습니다", "않았어요"])]
    if kind == 5:
        return [stem + "겠어요"]
    return [stem + "고", "있어요"]


def _adj_form(rng: random.Random, adj) -> List[str]:
    stem, polite, _ = adj
    kind = rng.randrange(4)
    if kind == 0:
        return [polite]
    if kind == 1:
        return [formal(stem)]
    if kind == 2:
        return [stem + "지", "않아요"]
    return [past(polite)]


def _np(rng: random.Random, nouns, mark: Callable[[str], str]) -> List[str]:
    """Noun phrase with an optional adjective."""
    words = []
    if rng.random() < 0.35:
        words.append(rng.choice(ADJECTIVES)[2])
    words.append(mark(rng.choice(nouns)))
    return words


def _maybe(rng: random.Random, p: float, make: Callable[[], List[str]]) -> List[str]:
    return make() if rng.random() < p else []


def _time(rng) -> List[str]:
    return [rng.choice(TIMES) + rng.choice(["", "에"]) if rng.random() < 0.5 else rng.choice(TIMES)]


def _adv(rng) -> List[str]:
    return [rng.choice(ADVERBS)]


def _template(rng: random.Random) -> List[str]:
    t = rng.randrange(8)
    r = rng
    if t == 0:  # [time] [place에서] subj obj verb
        return (_maybe(r, .5, lambda: _time(r)) + _maybe(r, .5, lambda: [r.choice(PLACES) + "에서"])
                + _np(r, PEOPLE, r.choice([subj, topic])) + _np(r, FOODS, r.choice([obj, lambda n: n + "도", lambda n: n + "만"]))
                + _maybe(r, .4, lambda: _adv(r)) + _verb_form(r, r.choice(VERBS_FOOD)))
    if t == 1:
        return (_np(r, PEOPLE, topic) + _np(r, THINGS, r.choice([obj, lambda n: n + "만", lambda n: n + "도"]))
                + _maybe(r, .4, lambda: _adv(r)) + _verb_form(r, r.choice(VERBS_THING)))
    if t == 2:  # subj adjective
        return (_maybe(r, .4, lambda: [r.choice(PLACES + TIMES) + "의"]) + _np(r, THINGS + FOODS + PLACES, r.choice([subj, topic]))
                + _maybe(r, .6, lambda: _adv(r)) + _adj_form(r, r.choice(ADJECTIVES)))
    if t == 3:  # motion
        return (_maybe(r, .5, lambda: _time(r)) + _np(r, PEOPLE, r.choice([subj, topic]))
                + _maybe(r, .4, lambda: [with_(r.choice(PEOPLE)), "같이"])
                + [r.choice([r.choice(PLACES) + "에", direction(r.choice(PLACES))])]
                + _maybe(r, .3, lambda: _adv(r)) + _verb_form(r, r.choice(VERBS_MOTION)))
    if t == 4:  # comparison
        a, b = r.sample(THINGS + FOODS + PLACES, 2)
        return [subj(a), b + "보다", r.choice(["더", "훨씬", "조금"])] + _adj_form(r, r.choice(ADJECTIVES))
    if t == 5:  # intransitive in a place
        return (_maybe(r, .5, lambda: _time(r)) + _np(r, PEOPLE, r.choice([subj, topic, lambda n: n + "도"]))
                + [r.choice(PLACES) + "에서"] + _maybe(r, .5, lambda: _adv(r))
                + _verb_form(r, r.choice(VERBS_INTRANS)))
    if t == 6:  # two clauses joined by -고
        s1, p1 = r.choice(VERBS_FOOD)
        return (_np(r, PEOPLE, topic) + _np(r, FOODS, obj) + [s1 + "고"]
                + _np(r, THINGS, obj) + _maybe(r, .3, lambda: _adv(r)) + _verb_form(r, r.choice(VERBS_THING)))
    # t == 7: relative clause: [V-는 person] subj adjective / object verb
    stem, _ = r.choice(VERBS_FOOD + VERBS_THING)
    obj_nouns = FOODS if (stem, _) in VERBS_FOOD else THINGS
    return ([obj(r.choice(obj_nouns)), adnominal(stem)] + [r.choice([subj, topic])(r.choice(PEOPLE))]
            + _maybe(r, .5, lambda: _adv(r)) + _adj_form(r, r.choice(ADJECTIVES)))


def generate_sentences(n: int, rng: random.Random) -> List[List[str]]:
    """``n`` sentences, each a list of 3-15 eojeol."""
    return sample_sentences(_template, n, rng)


def vocabulary() -> Set[str]:
    """Lemmas of the grammar (nouns, verb and adjective stems, adverbs, particles)."""
    verbs = VERBS_FOOD + VERBS_THING + VERBS_MOTION + VERBS_INTRANS
    return (set(PEOPLE) | set(FOODS) | set(THINGS) | set(PLACES) | set(TIMES)
            | {s for s, _ in verbs} | {a[0] for a in ADJECTIVES} | set(ADVERBS) | set(PARTICLES))
