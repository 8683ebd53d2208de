"""The words realistic bench files are made of: titles, names and blurbs (bench/data.py draws from them).

Each list runs from the most used to the least: the generator picks from the front more often, so
some words are in many titles and most in few, as in a real catalogue. A few carry accents, so the
files hold non-ASCII text too.
"""


def _split(text: str) -> list[str]:
    """The words of *text* in order, each once; an underscore joins two words into one entry."""
    return list(dict.fromkeys(word.replace("_", " ") for word in text.split()))


NOUNS = _split("""
House Night Time World Life Heart Garden River Road Sea Moon Stone Light Shadow Fire Water War City Girl Man
Woman Child King Queen Death Love Dream Secret Island Forest Mountain Book Story Letter Song Storm Winter Summer
Road Door Window Bridge Tower Castle Kingdom Empire Ship Train Station Harbour Lake Field Valley Star Sky Sun
Wind Rain Snow Ice Glass Mirror Clock Key Lamp Map Box Crown Sword Ring Blood Bone Skin Hand Eye Voice Name
Family Daughter Son Sister Brother Mother Father Wife Husband Friend Stranger Soldier Doctor Teacher Detective
Thief Witch Ghost Angel Devil Wolf Bird Horse Dog Cat Fox Bear Raven Dragon Rose Lily Tree Leaf Seed Orchard
Meadow Shore Coast Cliff Cave Desert Ocean Tide Wave Harvest Spring Autumn Morning Evening Midnight Dawn Dusk
Hour Day Year Century Age Memory History Silence Music Dance Game Hunt Journey Voyage Return Escape Promise
Lie Truth Lesson Gift Price Debt Fortune Chance Choice Question Answer Reason Mind Soul Spirit Body Machine
Engine Signal Code Circle Line Edge Border Frontier Wall Gate Path Trail Street Avenue Market Library Museum
School Church Chapel Hotel Inn Kitchen Table Bed Room Attic Cellar Hall Court Trial Crime Murder Case Affair
Scandal Mystery Riddle Puzzle Plan Plot Conspiracy Revolution Republic Nation People Crowd Company Circus
Theatre Stage Actor Painter Poet Writer Reader Keeper Hunter Gardener Baker Sailor Pilot Captain Prince
Princess Duke Lady Lord Master Servant Orphan Widow Bride Heir Outsider Prophet Saint Sinner Hero Villain
Giant Monster Beast Creature Shepherd Miller Weaver Clockmaker Cartographer Lighthouse Compass Anchor Lantern
Candle Feather Thread Needle Quilt Tapestry Portrait Photograph Diary Journal Chronicle Almanac Atlas Legend
Myth Fable Tale Saga Ballad Hymn Lullaby Requiem Symphony Canvas Ink Paper Salt Honey Bread Wine Tea Coffee
Café Señora Fiancée Émigré
""")

ADJECTIVES = _split("""
Last Lost Dark Little Great Long Secret Silent Hidden Broken Golden Silver Red Black White Blue Green Wild
Old New Young Deep Cold Bright Quiet Strange Sweet Bitter Perfect Final First Second Only Other Forgotten
Fallen Burning Frozen Empty Endless Distant Hollow Holy Sacred Wicked Gentle Brave Small Tiny Big Whole Open
Narrow Crooked Restless Sleeping Waking Dying Living Invisible Impossible Beautiful Terrible Curious Careful
Dangerous Ordinary Extraordinary Unfinished Unexpected Uncommon Unquiet Wandering Drowned Painted Stolen
Borrowed Paper Glass Iron Stone Wooden Velvet Crimson Scarlet Amber Ivory Emerald Midnight Morning Northern
Southern Eastern Western Winter Summer Autumn Spring Ancient Modern Royal Common Private Public Practical
Essential Complete Concise Illustrated Annotated Collected Selected Unabridged Revised Naïve Fiancée
""")

GERUNDS = _split("""
Finding Losing Keeping Leaving Making Breaking Building Reading Writing Counting Crossing Chasing Hunting
Watching Waiting Burning Drowning Flying Falling Running Dancing Singing Remembering Forgetting Becoming
Learning Teaching Saving Raising Burying Mapping Mending Painting Gathering Walking Sailing Climbing Hiding
""")

#: Subjects of practical and technical books.
TOPICS = _split("""
Python Statistics Algebra Calculus Chemistry Physics Biology Ecology Economics Accounting Marketing Management
Leadership Negotiation Photography Gardening Cooking Baking Knitting Woodworking Carpentry Plumbing Sailing
Navigation Astronomy Geology Botany Anatomy Nursing Pharmacology Psychology Sociology Philosophy Ethics Logic
Rhetoric Grammar Latin Greek Spanish French German Italian Japanese Mandarin Programming Databases Networks
Security Cryptography Electronics Robotics Machine_Learning Architecture Engineering Surveying Drawing
Watercolour Calligraphy Typography Design Composition Harmony Piano Guitar Violin Chess Bridge Birdwatching
Beekeeping Winemaking Nutrition Fitness Yoga Running Cycling Hiking Climbing Fishing Investing Taxation Law
Contracts Genealogy Archaeology Cartography Meteorology Oceanography Linguistics Mathematics Geometry
Topology Probability Optimisation Compilers Unix SQL Spreadsheets Bookkeeping Parenting Pedagogy Mythology
""")

#: Places, some with accents.
PLACES = _split("""
London Paris Venice Rome Berlin Vienna Prague Lisbon Madrid Dublin Edinburgh Oxford Cambridge York Bath
Cornwall Provence Tuscany Sicily Crete Cairo Istanbul Kyoto Tokyo Shanghai Bombay Delhi Lagos Nairobi Havana
Lima Quebec Boston Chicago Brooklyn Harlem Texas Alaska Iceland Norway Siberia Patagonia Arcadia Avalon Eden
Babylon Troy Atlantis Zürich Kraków Málaga Córdoba Besançon Göteborg Tromsø Reykjavík São_Paulo Montréal
""")

#: Words a blurb is made of besides the title words.
VERBS = _split("""
discovers follows remembers returns uncovers loses finds becomes escapes confronts inherits abandons
chases protects betrays rebuilds explores questions survives unravels reveals hides crosses defends
""")

AUDIENCES = ["Beginners", "Everyone", "Engineers", "Students", "Busy People", "Children", "Managers",
             "the Curious", "Professionals", "Dummies", "Teachers", "Parents"]  # fmt: skip

NUMBERS = ["Two", "Three", "Seven", "Twelve", "Forty", "Hundred", "Thousand", "101", "50", "1,001", "365"]

#: Series titles end in one of these, with the volume's number.
VOLUME_STYLES = [", Volume {}", ", Book {}", " #{}", ": Part {}", " {}", " (Book {})"]

EDITIONS = [" (2nd edition)", " (3rd edition)", ": Revised Edition", " (Illustrated)", " (Abridged)",
            ": Anniversary Edition", ": A Novel", " (Large Print)"]  # fmt: skip

FIRST_START = _split("""
Al An Ben Car Da El Fe Ga Hel I Jo Ka Le Ma Ni O Pe Ra Sa Te U Vi Wil Ya Zo Chr Ste Ro Mi Li Ju Ce Do Ha
Ire Lu Mar Na Re So Jé Ag Be Cla Fra Gre Is Kat Lo Mo Ni Pau Ri Si Ta Tho
""")
FIRST_END = _split("""na ra lia nne der vid mon ton rie sa len ric ian ette o ia as is el ert bert rik ko mi ro lo
drew niel than rah ta""")

SURNAME_START = _split("""
Har Whit Ash Black Brook Cal Dal Fair Gold Hol Kings Lang Mar North Pem Ros Stan Thorn Wes Wood Ber Mül Gar
Fer Nak Sor Hay Mor Pres Rad Sal Tal Van Wal Yor Ken Lind Oka Rod Bel Cor Dun Fitz Gren Lar
""")
SURNAME_MIDDLE = ["", "", "", "ing", "en", "er", "a", "el", "ow", "i"]
SURNAME_END = _split("""ton ley ford well wood son man berg ström ez ini ova ard ridge field by mura sen stein ier
worth more hurst gard ski""")

SENTENCE_OPENINGS = ["In", "When", "After", "Before", "Years after", "On the eve of", "Somewhere beyond"]
