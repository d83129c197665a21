"""Word lists the extractor and the answerer share: general English, not article-specific."""

from __future__ import annotations

ROLE_NOUNS = frozenset("""
president minister secretary chancellor premier prime governor mayor senator lawmaker
congressman congresswoman representative ambassador diplomat envoy spokesman spokeswoman
spokesperson official officer general admiral colonel commander chief head director
chairman chairwoman chair ceo cfo founder cofounder owner executive manager president-elect
professor lecturer researcher scientist historian economist analyst expert scholar fellow
journalist reporter correspondent editor author writer columnist commentator author
leader ruler dictator king queen prince princess emperor monarch pope bishop
activist lawyer attorney judge prosecutor doctor physician surgeon nurse engineer
adviser advisor consultant strategist negotiator mediator candidate politician
member deputy vice-president vice spokesperson coach player captain
student teacher dean rector principal curator director-general secretary-general
""".split())

TITLES = frozenset("""
president minister chancellor premier governor mayor senator ambassador general admiral
colonel commander chief director chairman professor prof dr doctor mr mrs ms mx sir lord lady
king queen prince princess emperor pope bishop judge secretary deputy vice
""".split())

SPEECH_VERBS = frozenset("""
said says say told tells added adds explained explains warned warns stated states noted notes
stressed stresses argued argues claimed claims insisted insists wrote writes believes believed
thinks thought suggested suggests admitted admits estimated estimates predicted predicts
according emphasized emphasised emphasizes emphasises cautioned cautions declared declares
asserted asserts concluded concludes continued continues commented comments remarked remarks
acknowledged acknowledges replied replies answered answers doubts doubted fears feared expects
expected
""".split())

REPORTING_VERBS = frozenset("""
believes believed thinks thought doubts doubted fears feared expects expected suspects suspected
considers considered assumes assumed
""".split())

ORG_WORDS = frozenset("""
university institute institution ministry agency council organization organisation bank party
army navy forces force committee commission company corporation corp inc ltd llc group union
alliance association foundation center centre department office court parliament government
times news post journal network school college academy fund federation league club studies
press tribune herald broadcasting television radio service services command administration
senate congress assembly cabinet kremlin embassy police guard guards authority authorities
""".split())

OUTLET_HINTS = frozenset("""
times news post journal tribune herald press broadcasting television radio tv bbc cnn reuters
ap afp dpa tass euronews
""".split())

PLACE_EXTRAS = frozenset({
    "europe", "asia", "africa", "america", "americas", "oceania", "antarctica", "middle east",
    "far east", "east asia", "south east asia", "southeast asia", "north america",
    "south america", "latin america", "arctic", "balkans", "baltics", "caucasus", "siberia",
    "scandinavia", "western europe", "eastern europe", "central asia", "the west",
})

PRONOUNS_SUBJECT = frozenset({"he", "she", "they"})

QUESTION_WORDS = frozenset("""
who whom whose what which when where why how is are was were do does did can could would will
should might may has have had tell me about explain describe give list show please any
""".split())

GENERIC_QUESTION_TERMS = frozenset("""
say said says think thinks believe believes mean means happen happened know known like get got
article articles seed seeds story news report reports mention mentioned mentions one thing things
""".split())

# Cue words for "why might X fail" style questions: stated obstacles, doubts and risks.
OBSTACLE_STRONG = frozenset("""
limited limit limits problem problems challenge challenges unthinkable impossible obstacle
obstacles risk risks risky difficult difficulty difficulties doubt doubts doubtful unless fail
fails failed failure shortage shortages lack lacks lacking cannot can't unable question
questions questioned refuse refuses refused reluctant hurdle hurdles barrier barriers constraint
constraints sanctions threat threats danger dangerous delay delays delayed unlikely opposition
oppose opposes opposed block blocks blocked warn warns warned warning warnings insufficient
scarce costly expensive uncertain uncertainty concern concerns worried worry
""".split())

OBSTACLE_WEAK = frozenset("""
not no nothing without however but although though only yet never neither nor away far
could might
""".split())

OBSTACLE_QUESTION = frozenset("""
fail fails failure risk risks obstacle obstacles problem problems challenge challenges hurdle
hurdles wrong stop prevent prevents derail collapse block blocked doubt doubts trouble troubles
difficult difficulty difficulties danger threat threats weakness weaknesses against obstacle
barrier barriers issue issues concern concerns downside downsides
""".split())

CAUSAL_CUES = frozenset("""
because since due so therefore thus hence reason reasons why order response result
""".split())

MONTHS = (
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
).split()
WEEKDAYS = "monday tuesday wednesday thursday friday saturday sunday".split()
TIME_WORDS = frozenset("""
today yesterday tomorrow tonight week weeks month months year years decade decades century
morning evening night noon midnight spring summer autumn fall winter soon later recently
currently now date day days hour hours minute minutes time times when during until since ago
early mid late next last first
""".split())

# General-English paraphrase links for question words that articles phrase differently.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "trouble": ("problem", "doubt", "challenge", "difficulty", "fail"),
    "troubles": ("problem", "doubt", "challenge", "difficulty", "fail"),
    "obstacle": ("problem", "challenge", "limited", "doubt"),
    "risk": ("problem", "danger", "threat", "challenge"),
    "problem": ("challenge", "difficulty", "trouble"),
    "weapon": ("arms", "gun", "ammunition", "shell", "artillery"),
    "weapons": ("arms", "gun", "ammunition", "shells", "artillery"),
    "arms": ("weapons", "gun", "ammunition"),
    "ammunition": ("shells", "artillery", "munitions"),
    "meet": ("meeting", "summit", "talks"),
    "summit": ("meeting", "talks"),
    "want": ("hope", "interested", "seek", "need"),
    "hope": ("want", "interested", "seek"),
    "need": ("want", "lack", "shortage"),
    "food": ("hunger", "famine"),
    "hunger": ("food", "famine"),
    "deal": ("agreement", "cooperation", "pact"),
    "agreement": ("deal", "pact", "accord"),
    "matter": ("effect", "impact"),
    "impact": ("effect", "value", "decisive"),
    "effect": ("impact", "value"),
    "help": ("assistance", "aid", "support"),
    "aid": ("assistance", "help"),
    "letter": ("letters", "message"),
    "sent": ("send",),
    "country": ("nation", "state"),
    "leader": ("ruler", "president"),
    "ruler": ("leader",),
    "distance": ("kilometers", "kilometres", "miles", "away"),
    "far": ("kilometers", "kilometres", "miles", "away"),
    "ship": ("transport", "shipment", "sea"),
    "deliver": ("shipment", "transport", "deliveries"),
    "supply": ("deliver", "shipment", "deliveries"),
}

# Capitalised words that start sentences or titles but never start a name.
STOPWORDS_CAPS = frozenset("""
a an the this that these those it its in on at by for from to of and or but if as with without
after before during while when where why how what who which there here however moreover also
even still yet both each every all some any many most more much such no not nothing none one
two three according despite although though because since until unless so then thus hence
above below over under between among into onto upon about against via per than like
he she they we i you his her their our my your him them us me mr mrs ms dr
monday tuesday wednesday thursday friday saturday sunday january february march april may
june july august september october november december
""".split())
