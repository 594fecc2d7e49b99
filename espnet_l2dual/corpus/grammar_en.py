"""A small English grammar of our own for the synthetic ``mini`` corpus.

Why hand-made: the corpus is generated on a fresh machine with no data, and
its words must give L2 error patterns many chances to fire: the lexicon is
rich in TH, R/L, V and F words and in words ending in consonant clusters.

Words are UPPERCASE, the normalised form the recipes score on. Sentences come
from a few SVO templates, 3-15 words. ``generate_sentences(n, rng)`` is
deterministic for a given ``random.Random`` state.
"""

from __future__ import annotations

import random
from typing import Callable, Dict, List, Set
from espnet_l2dual.corpus.sentences import sample_sentences

PEOPLE = (
    "BROTHER FATHER MOTHER FRIEND FARMER DRIVER TEACHER DOCTOR LAWYER PLAYER RUNNER SINGER "
    "WRITER READER WORKER VISITOR TRAVELER NEIGHBOR CLERK CHILD STUDENT PILOT ARTIST THIEF "
    "VILLAGER FISHERMAN GIRL BOY SISTER LEADER SOLDIER FRIEND PARENT DANCER BAKER BUILDER"
).split()

THINGS = (
    "BOOK DESK LAMP RICE BREAD FISH FRUIT RIVER FOREST FIELD CLOTH GLOVE VEST BELT BOX BASKET "
    "LETTER FILM PHOTO PHONE CLOCK BOTTLE GLASS PLATE FORK KNIFE SPOON BLANKET PILLOW LIST "
    "THREAD ROPE LEAF ROOF WALL FLOOR DOOR WINDOW BRIDGE ROAD TRUCK VAN BIKE TRAIN PLANE BOAT "
    "TOOTH THUMB FEATHER LEATHER VIOLIN GUITAR DRUM FLUTE PENCIL MAP GIFT CARD TICKET WALLET "
    "RING BELL FLAG FLOWER TREE GRASS STONE SAND CLOUD WIND STORM FROST LAKE POND HILL CLIFF "
    "FARM BARN FENCE GATE TOWER TENT NEST FROG FOX WOLF BIRD HORSE SHEEP LAMB CALF DUCK "
    "VASE OVEN STOVE FRIDGE SOFA SHELF DRAWER MIRROR CANDLE TOWEL SOAP BRUSH COMB RIBBON "
    "PARCEL PACKET MEDAL TROPHY PUZZLE RIDDLE STORY POEM SONG FILE FOLDER SCARF COAT SHIRT"
).split()

FOODS = (
    "RICE BREAD FISH MILK BEEF PORK LEMON OLIVE GRAPE PLUM PEACH APPLE CARROT RADISH TOAST "
    "SOUP STEW SALAD TOFU FLOUR BUTTER CHEESE PEPPER GARLIC ONION NOODLE BERRY MELON TEA COFFEE"
).split()

PLACES = (
    "MARKET LIBRARY THEATER HOSPITAL FACTORY OFFICE RESTAURANT HOTEL STATION AIRPORT "
    "VILLAGE VALLEY HARBOR ISLAND FOREST GARDEN CHURCH CASTLE MUSEUM CLASSROOM KITCHEN "
    "BATHROOM BEDROOM LIVING ROOM PARK SCHOOL COLLEGE FIELD DESERT NORTH SOUTH"
).split()
PLACES = [p for p in PLACES if p not in ("LIVING",)]

ADJECTIVES = (
    "THICK THIN VERY_OLD RED BLUE GREEN YELLOW PURPLE BLACK WHITE BRIGHT DARK COLD WARM HOT "
    "FRESH SOFT HARD LONG SHORT SMALL LARGE HEAVY LIGHT FAST SLOW RICH POOR BRAVE CLEVER "
    "FRIENDLY LOVELY LONELY QUIET LOUD ROUGH SMOOTH DRY WET CLEAN DIRTY EMPTY FULL FLAT "
    "ROUND SHARP SWEET SOUR BITTER SILVER GOLDEN WOODEN VELVET FOREIGN FAMOUS FAVORITE "
    "GENTLE HUNGRY THIRSTY TIRED WORRIED LUCKY FIRST LAST BEST WORST STRICT STRONG"
).split()
ADJECTIVES = [a for a in ADJECTIVES if "_" not in a]

ADVERBS = (
    "THEN THERE REALLY RARELY OFTEN ALWAYS NEVER SLOWLY QUICKLY FREELY LATELY EARLY LATER "
    "TOGETHER ALREADY AGAIN FIRST THOROUGHLY PROPERLY CAREFULLY TRULY FINALLY RATHER"
).split()

TIMES = [
    "LAST NIGHT", "EVERY MORNING", "ON FRIDAY", "ON THURSDAY", "ON TUESDAY", "THIS EVENING",
    "LAST WINTER", "IN APRIL", "IN FEBRUARY", "AFTER LUNCH", "BEFORE DINNER", "THIS MONTH",
    "NEXT YEAR", "EVERY FRIDAY", "AT FIRST", "THE OTHER DAY",
]

PREPOSITIONS = "IN ON NEAR BEHIND UNDER OVER FROM WITH WITHOUT THROUGH AROUND BEFORE AFTER BESIDE".split()
DETERMINERS = "THE THE THIS THAT A MY OUR THEIR HER HIS EVERY".split()
PRONOUNS = ["I", "YOU", "WE", "THEY"]
PRONOUNS_3SG = ["HE", "SHE", "IT"]

# base -> past (irregular or spelling-changing); the rest take -ED / -D
_IRREGULAR_PAST: Dict[str, str] = {
    "BRING": "BROUGHT", "BUY": "BOUGHT", "FIND": "FOUND", "FEEL": "FELT", "LEAVE": "LEFT",
    "HOLD": "HELD", "SELL": "SOLD", "TELL": "TOLD", "THINK": "THOUGHT", "THROW": "THREW",
    "DRIVE": "DROVE", "RIDE": "RODE", "WRITE": "WROTE", "READ": "READ", "DRAW": "DREW",
    "FORGET": "FORGOT", "GIVE": "GAVE", "KEEP": "KEPT", "SEND": "SENT", "BUILD": "BUILT",
    "LEND": "LENT", "STEAL": "STOLE", "FREEZE": "FROZE", "BREAK": "BROKE", "CARRY": "CARRIED",
    "STOP": "STOPPED", "DROP": "DROPPED", "GRAB": "GRABBED", "PLAN": "PLANNED", "SEE": "SAW",
    "EAT": "ATE", "MAKE": "MADE", "TAKE": "TOOK", "WEAR": "WORE", "LOSE": "LOST", "FEED": "FED",
    "BURN": "BURNED", "HIDE": "HID", "SHAKE": "SHOOK", "FLY": "FLEW", "RUN": "RAN",
    "SWIM": "SWAM", "SLEEP": "SLEPT", "SIT": "SAT", "FALL": "FELL", "GO": "WENT", "COME": "CAME",
    "TRAVEL": "TRAVELED", "LEARN": "LEARNED",
}

VERBS_TRANS = (
    "BRING BUY FIND LEAVE HOLD SELL THROW DRIVE WRITE READ DRAW FORGET GIVE KEEP SEND BUILD "
    "LEND STEAL FREEZE BREAK CARRY DROP GRAB SEE MAKE TAKE WEAR LOSE FEED BURN HIDE SHAKE "
    "WANT NEED HELP FILL FOLD FIX LIFT PAINT PRINT WASH VISIT LOVE LIKE PREFER REPAIR "
    "PROTECT COLLECT SELECT CHECK PACK PICK PULL PUSH PLAY RENT REMOVE MOVE COVER DELIVER "
    "FOLLOW FETCH THANK TOUCH TRUST WATCH RECORD OFFER ORDER RETURN"
).split()
VERBS_FOOD = "EAT BUY COOK SERVE TASTE SELL BAKE FRY BOIL SLICE ORDER SHARE LIKE WANT PREFER".split()
VERBS_INTRANS = (
    "RUN SWIM SLEEP SIT FALL WORK REST LAUGH CRY TRAVEL LEARN WAIT ARRIVE RETURN DANCE "
    "SMILE RELAX STAY CLIMB FLY PLAY LISTEN WALK JUMP"
).split()
VERBS_MOTION = ["GO", "COME", "WALK", "DRIVE", "RUN", "TRAVEL", "RETURN", "FLY", "RIDE", "MOVE"]


def third_person(verb: str) -> str:
    if verb in ("GO", "DO"):
        return verb + "ES"
    if verb.endswith(("S", "SH", "CH", "X", "Z")):
        return verb + "ES"
    if verb.endswith("Y") and verb[-2] not in "AEIOU":
        return verb[:-1] + "IES"
    return verb + "S"


def past(verb: str) -> str:
    if verb in _IRREGULAR_PAST:
        return _IRREGULAR_PAST[verb]
    if verb.endswith("E"):
        return verb + "D"
    if verb.endswith("Y") and verb[-2] not in "AEIOU":
        return verb[:-1] + "IED"
    return verb + "ED"


def plural(noun: str) -> str:
    special = {"CHILD": "CHILDREN", "THIEF": "THIEVES", "WOLF": "WOLVES", "LEAF": "LEAVES",
               "KNIFE": "KNIVES", "SHEEP": "SHEEP", "FISH": "FISH", "TOOTH": "TEETH", "CALF": "CALVES",
               "FISHERMAN": "FISHERMEN", "SHELF": "SHELVES"}
    if noun in special:
        return special[noun]
    if noun.endswith(("S", "SH", "CH", "X")):
        return noun + "ES"
    if noun.endswith("Y") and noun[-2] not in "AEIOU":
        return noun[:-1] + "IES"
    return noun + "S"


def _np(r: random.Random, nouns) -> List[str]:
    words = [r.choice(DETERMINERS)]
    if r.random() < 0.4:
        words.append(r.choice(ADJECTIVES))
    noun = r.choice(nouns)
    if words[0] == "A" and (words[-1] if len(words) > 1 else noun)[0] in "AEIOU":
        words[0] = "AN"
    return words + [noun]


def _maybe(r: random.Random, p: float, make: Callable[[], List[str]]) -> List[str]:
    return make() if r.random() < p else []


def _pp(r: random.Random) -> List[str]:
    return [r.choice(PREPOSITIONS)] + _np(r, PLACES + THINGS)


def _time(r: random.Random) -> List[str]:
    return r.choice(TIMES).split()


def _subject_verb(r: random.Random, verbs) -> List[str]:
    """Subject and an agreeing verb form (present, past, or a modal/auxiliary)."""
    verb = r.choice(verbs)
    if r.random() < 0.5:
        subject = _np(r, PEOPLE) if r.random() < 0.6 else [r.choice(PRONOUNS_3SG)]
        third = True
    else:
        subject = [r.choice(PRONOUNS)]
        third = False
    kind = r.randrange(4)
    if kind == 0:
        return subject + [third_person(verb) if third else verb]
    if kind == 1:
        return subject + [past(verb)]
    if kind == 2:
        return subject + [r.choice(["WILL", "COULD", "SHOULD", "MIGHT"]), verb]
    return subject + [r.choice(["DOES", "DID"] if third else ["DO", "DID"]), "NOT", verb]


def _template(r: random.Random) -> List[str]:
    t = r.randrange(7)
    if t == 0:
        return (_maybe(r, .3, lambda: _time(r)) + _subject_verb(r, VERBS_TRANS) + _np(r, THINGS)
                + _maybe(r, .4, lambda: _pp(r)) + _maybe(r, .2, lambda: [r.choice(ADVERBS)]))
    if t == 1:
        return _subject_verb(r, VERBS_FOOD) + _np(r, FOODS) + _maybe(r, .4, lambda: _time(r))
    if t == 2:
        return (_np(r, THINGS + PLACES + FOODS) + [r.choice(["IS", "WAS", "SEEMS", "FELT"])]
                + _maybe(r, .4, lambda: [r.choice(["VERY", "RATHER", "TRULY", "FAIRLY", "REALLY"])])
                + [r.choice(ADJECTIVES)])
    if t == 3:
        return (_subject_verb(r, VERBS_MOTION) + [r.choice(["TO", "FROM", "THROUGH", "TOWARD"])]
                + _np(r, PLACES) + _maybe(r, .4, lambda: [r.choice(["WITH", "WITHOUT"])] + _np(r, PEOPLE)))
    if t == 4:
        return ([r.choice(["I", "WE", "THEY", "YOU"]), r.choice(["THINK", "FEEL", "HEARD", "BELIEVE", "FORGOT"]), "THAT"]
                + _subject_verb(r, VERBS_TRANS) + _np(r, THINGS))
    if t == 5:
        return (["THERE", r.choice(["ARE", "WERE"]), r.choice(["THREE", "FIVE", "SEVEN", "TWELVE", "FORTY", "SEVERAL", "FEW", "MANY"])]
                + [plural(r.choice(THINGS))] + _pp(r))
    return (_subject_verb(r, VERBS_INTRANS) + _maybe(r, .5, lambda: _pp(r))
            + _maybe(r, .4, lambda: [r.choice(ADVERBS)]) + _maybe(r, .3, lambda: _time(r)))


def generate_sentences(n: int, rng: random.Random) -> List[List[str]]:
    """``n`` sentences, each a list of 3-15 UPPERCASE words."""
    return sample_sentences(_template, n, rng)


def vocabulary() -> Set[str]:
    """Lemmas of the grammar (nouns, verbs, adjectives, adverbs, function words)."""
    verbs = set(VERBS_TRANS) | set(VERBS_FOOD) | set(VERBS_INTRANS) | set(VERBS_MOTION)
    return (set(PEOPLE) | set(THINGS) | set(FOODS) | set(PLACES) | set(ADJECTIVES) | set(ADVERBS)
            | verbs | set(PREPOSITIONS) | set(DETERMINERS) | set(PRONOUNS) | set(PRONOUNS_3SG))
