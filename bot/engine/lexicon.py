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

ADJECTIVAL_ROLES = frozenset("""
general chief head principal executive prime vice deputy senior member
""".split())
"""Role nouns that also modify another noun: `the general public`, `the head office`."""

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

PLACE_HEADS = frozenset({
    "police", "sheriff", "sheriff's", "county", "residents", "mayor", "township",
    "firefighters", "city council",
})
"""Nouns a place name modifies and a person's name does not ("Forest Hill police", "Travis
County", "Riverton residents"): a name so followed is a place, though its first word is
a given name ("Forest")."""

QUANTITY_NOUNS = frozenset("""
number amount population price cost revenue revenues income profit profits loss losses salary
wage wages budget debt length width height depth weight mass distance speed rate percentage
percent proportion temperature age total sum count capacity volume margin duration frequency
density altitude elevation valuation turnover fee
""".split())
"""Nouns that name an amount: `what is the <noun> of X` asks for a figure, as `how much` does.
Not those that as often name a place or a kind ("what area", "what value", "what share",
"what size" of shoe, "what range" of hills)."""

PRONOUNS_SUBJECT = frozenset({"he", "she", "they"})

QUESTION_WORDS = frozenset("""
who whom whose what which when where why how is are was were do does did can could would will
should might may has have had tell me about explain describe give list show please any
""".split())

GENERIC_QUESTION_TERMS = frozenset("""
say said says think thinks believe believes mean means happen happened know known like get got
article articles seed seeds story news report reports mention mentioned mentions one thing things
""".split())

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
