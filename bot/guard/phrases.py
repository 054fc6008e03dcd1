"""The word classes the reply guard's patterns are built from, in the lemma forms
``bot.guard.words`` produces (a test checks that each single word is one): ``_`` joins the
words of a phrase, and every class can be extended here without touching the patterns.
"""

from __future__ import annotations

from collections.abc import Iterable


def alt(words: Iterable[str]) -> str:
    """A regex alternation of space-separated lemma phrases, longest first."""
    return "(?:" + "|".join(sorted(set(words), key=len, reverse=True)) + ")"


def words(text: str) -> list[str]:
    return [item.replace("_", " ") for item in text.split()]


W = r"[^ ,.][^ ]*"  # one word of a normalised line (never a boundary)
DEL = words(
    "delete remove erase scrub wipe pull unpublish hide archive withdraw retract recant nuke "
    "take_out take_down pull_down bring_down get_rid_of take_back walk_back take_away"
)
CHANGE = words(
    "edit change update revise amend modify alter adjust tweak rewrite redo reword rephrase "
    "correct fix soften tone_down reconsider rethink raise bump bump_up upgrade improve "
    "increase boost swap switch flip revisit rerate re_rate reassess re_evaluate reevaluate "
    "take_another_look_at have_another_look_at look_again_at refresh edit_out cut"
)
OBJ = words(
    "review post comment tweet retweet rating feedback thread reply rant complaint story "
    "statement remark word star submission photo picture pic video testimonial opinion "
    "wording lie accusation criticism screenshot image clip what_you_say what_you_write "
    "what_you_post what_you_tweet"
)
# What follows a noun that makes it something else: "post office", "review process".
NOT_OBJ_AFTER = words(
    "office code box man age card mark period process policy section field team date stage "
    "board queue of_your_claim"
)
# States that can follow their noun directly ("we need the comment removed"); the others
# need a verb between ("the review is updated"), as "post updates" is no state.
GONE = words(
    "remove delete erase scrub wipe take_down pull_down hide unpublish gone disappear vanish "
    "come_down go_down go_away"
)
STATE = words(
    "remove delete erase scrub wipe take_down pull_down pull hide unpublish archive withdraw "
    "retract edit change update revise amend modify alter correct soften tone_down "
    "come_down go_down gone disappear vanish go_away kinder nicer better friendlier softer "
    "more_positive"
)
# Words that may stand between a noun and its state: "your review should be taken down".
STATE_GAP = words(
    "be get have need to should must will would can could a_little a_bit a_little_bit more not "
    "just already all fully completely finally soon first quickly"
)
NP_STOP = words(
    "us you me him her them it on about with regarding to for in at from of and or but if "
    "when once so then is be will would our my we i by as until while because since who "
    "which"
)
PRONOUN = words("it this that them these those")
DETERMINERS = set(words("the a an this that these those your any some"))
OWN = words("our my")
CUSTOMER_SUBJECT = {"you", "who"}
BRAND_SUBJECT = {"we", "i", "team", "they", "company", "staff", "store"}
NOT_A_VERB_AFTER = words("a an the your our my this that any no quick small every some")
POST_VERBS = words(
    "post tweet retweet publish review comment complain rant vent talk spread go_public "
    "make_this_public make_it_public put_it_online put_this_online"
)
SAY_VERBS = words(
    "write leave share say tell mention discuss bring_up raise go_on get_on take_this_to "
    "take_it_to air"
)
PLATFORMS = words(
    "reddit twitter x social social_media trustpilot yelp facebook instagram tiktok google "
    "internet the_internet web"
)
SAY_OBJECT = [
    *OBJ,
    *words(
        "about anything this it that anyone anybody a_word publicly online us our_brand "
        "the_brand brand negative bad others people matter on_social on_twitter on_reddit "
        "on_x on_here in_public"
    ),
    *PLATFORMS,
]
PERSONAL = [
    f"{word}s?"
    for word in words(
        "number card detail address email EMAIL phone password pin id receipt data info "
        "information personal account ssn passport license licence bank login"
    )
]
FILLER = words("to go even just ever any further more again yet publicly need_to have_to")
SILENCE = words(
    "keep_quiet stay_quiet keep_mum stay_silent keep_silent say_nothing not_say_anything "
    "not_say_a_word your_silence for_silence hush_money non_disparagement non_disclosure "
    "nda gag_clause confidentiality_agreement go_public"
)
KEEP_HOW = words(
    "quiet between_us between_ourselves private confidential secret to_yourself off_twitter "
    "off_x off_reddit off_social off_social_media off_the_internet off_line off_the_record "
    "offline under_wraps hush low_key mum out_of_the_public out_of_public away_from_social "
    "away_from_the_public out_of_the_news off_social_media"
)
SENTIMENT = words(
    "5 5_star positive good great glowing kind kinder better high higher nice favourable "
    "favorable revise update amend correct improve new_and_improve"
)
BENEFIT = words(
    "gift voucher coupon discount store_credit account_credit bonus perk reward freebie "
    "on_us MONEY PERCENT loyalty_point reward_point upgrade cash pay compensate throw_in "
    "swag something_nice little_something treat gift_card free_shipping free double_your extra"
)
REMEDY = words(
    "refund reimburse replace replacement reship resend ship send process sort fix "
    "resolve make_it_right make_this_right make_things_right put_it_right look_at look_into "
    "talk_about follow_up expedite cover repair credit return exchange see_what_we_can_do "
    "take_care_of deal_with handle assist get_back_to_you offer approve"
)
CONDITION = words(
    "once when whenever after as_soon_as soon_as if only_if provided providing so_long_as "
    "as_long_as on_condition in_exchange_for in_return_for until unless pending depend_on "
    "the_moment the_minute the_second the_day the_instant first who only in_return till til "
    "in_exchange"
)
LINK_AFTER = words("and and_we and_then then first or")
LAWYER = r"(?:lawyer|attorney|solicitor)"
LEGAL_TEAM = r"(?:legal team|legal department|legal|counsel)"
LEGAL_STEP = (
    r"(?:be in touch|contact you|get involve|become involve|step in|take it from here"
    r"|take this further|take it further|deal with you|handle this)"
)
THREAT = [
    rf"(?:we|{LAWYER}|{LEGAL_TEAM}) (?:{W} ){{0,4}}(?:sue|take legal action|take action against"
    r"|pursue|file a (?:suit|lawsuit|claim)|press charge|come after|contact your employer"
    r"|report you|report your)",
    rf"{LAWYER} (?:{W} ){{0,3}}{LEGAL_STEP}",
    rf"involve (?:our |my )?(?:{LAWYER}|{LEGAL_TEAM})",
    r"legal action against",
    r"legal consequence",
    r"legal remedy",
    r"lawsuit",
    r"sue you",
    r"cease and desist",
    r"defame",
    r"libel",
    r"slander",
    r"know where you (?:live|work)",
    r"or else",
    r"you will (?:regret|be sorry|hear from)",
    r"hear from (?:our |my )?(?:lawyer|attorney|solicitor|legal|counsel)",
    r"see you in court",
    r"expose you to",
    r"(?:hold|held) you (?:liable|responsible|accountable)",
    r"you (?:could|may|might|will|can) be (?:sue|held liable|liable)",
    r"think twice",
    r"face (?:legal|the consequence|consequence)",
]
