"""Category keyword signals: counted per category and fed, with the sentence vector, to the
category head; alone, the fallback when no head is shipped.

Pure Python, no torch: cheap to import and to test.
"""

from __future__ import annotations

from collections.abc import Iterable

from classifiers.rules import compile_phrases

CATEGORY_KEYWORDS: dict[str, tuple[str, ...]] = {
    "shipping_delivery": (
        r"deliver\w*",
        r"ship(?:ping|ped|ment|s)?",
        r"packages?",
        r"parcels?",
        r"track(?:ing|ed)?",
        r"couriers?",
        r"arriv\w*",
        r"dispatch\w*",
        r"usps|ups|fedex|dhl|amazon logistics|ontrac",
        r"in transit",
        r"porch|doorstep|mailbox|front door",
        r"(?:lost|missing|stolen) (?:package|parcel|order|box)",
        r"(?:late|delayed|delay|stuck)",
        r"where is my order|wismo|still waiting",
        r"(?:wrong|old) address",
        r"box",
    ),
    "product_quality": (
        r"broke(?:n)?",
        r"defect\w*",
        r"faulty",
        r"damaged",
        r"cheap(?:ly)?",
        r"quality",
        r"stopped working|doesn'?t work|does not work|won'?t (?:turn on|charge|work)",
        r"fell apart|falling apart|came apart",
        r"ripped|torn|tear|hole|holes",
        r"stitch\w*|seams?",
        r"cracked|crack|scratched|dent(?:ed)?",
        r"leak\w*",
        r"(?:too )?(?:small|big|tight|loose)|sizing|size|fit(?:s)?",
        r"fabric|material|zipper|sole|strap",
        r"battery|charger|screen|button",
        r"stale|expired|mou?ldy|rotten|taste[sd]?",
        r"fake|counterfeit",
        r"faded|shrunk|shrank|pilling",
    ),
    "billing_refund": (
        r"refund\w*",
        r"charg(?:e|ed|es|ing)",
        r"double.?charged|overcharged|charged twice",
        r"bill(?:ed|ing)?",
        r"payments?|paid|pay",
        r"money back|my money",
        r"credit card|debit card|card|paypal|klarna|afterpay",
        r"invoice|receipt",
        r"price|pric(?:ing|ed)|\$\d+",
        r"promo|coupon|discount|code",
        r"subscription|renew(?:al|ed)?|auto.?renew",
        r"fees?",
        r"reimburs\w*|store credit|credit",
        r"return(?:s|ed)?|exchange",
        r"cancel\w*",
    ),
    "customer_service": (
        r"customer (?:service|support|care)",
        r"support",
        r"agents?|reps?|representatives?|staff|employee",
        r"on hold|hold",
        r"live chat|chat",
        r"no (?:response|reply|answer)|never (?:replied|responded|answered|heard back)",
        r"rude|unhelpful|useless|dismissive",
        r"ignor\w*",
        r"emails?|e-mails?|called|calls?|phone",
        r"hung up|hang up",
        r"tickets?|case number",
        r"manager|supervisor",
        r"escalat\w*",
        r"dm(?:s|ed)?|messag\w*",
        r"transferred",
    ),
    "account_privacy": (
        r"accounts?",
        r"log ?in|login|logged out|sign ?in|signed out",
        r"passwords?",
        r"hack\w*",
        r"locked out|lock(?:ed)?",
        r"2fa|two.?factor|verification code|otp",
        r"privacy|private",
        r"personal (?:data|info|information|details)",
        r"my data|data",
        r"spam|unsubscribe|marketing emails?",
        r"email address|phone number",
        r"suspended|banned|deactivated",
        r"profile",
    ),
    "website_app": (
        r"websites?|site",
        r"apps?|application",
        r"checkout|check out|cart|basket",
        r"crash\w*",
        r"errors?|error code",
        r"pages?|404|500",
        r"bugs?|buggy|glitch\w*",
        r"load(?:ing)?|loads|slow",
        r"ios|android|iphone|browser|chrome|safari|update",
        r"link|links|url",
        r"search (?:bar|results?)|filter",
        r"wishlist|notifications?",
        r"click\w*|tap\w*|scroll\w*",
    ),
}

_CATEGORY_REGEXES = {name: compile_phrases(words) for name, words in CATEGORY_KEYWORDS.items()}
KEYWORD_CATEGORIES: tuple[str, ...] = tuple(CATEGORY_KEYWORDS)


def category_hits(text: str) -> list[float]:
    """How many keyword phrases of each category occur (order: ``KEYWORD_CATEGORIES``)."""
    return [float(len(regex.findall(text))) for regex in _CATEGORY_REGEXES.values()]


def keyword_category(text: str) -> str:
    """Category with most keyword hits, or "other": the fallback when no head is shipped."""
    hits = category_hits(text)
    best = max(hits)
    if best == 0:
        return "other"
    return KEYWORD_CATEGORIES[hits.index(best)]


# Category precedence (policy.md: "the more specific wins"), keyed on phrases, applied after
# the category head: an account takeover, or a post whose phrases raise privacy_request or
# data_exposure (a data request, a breach), is account_privacy whatever else it is about; a
# card charged twice is billing_refund, not customer_service.
PRIVACY_FLAGS = frozenset({"privacy_request", "data_exposure"})
_TAKEOVER = compile_phrases(
    [
        r"hack(?:ed|er|ers)",
        r"compromised",
        r"unauthori[sz]ed (?:\w+ ){0,2}(?:log ?ins?|sign[- ]?ins?|access|orders?|purchases?)",
        r"(?:someone|somebody|a stranger) (?:\w+ ){0,3}(?:logged|got|broke|signed) in(?:to)?",
        r"(?:taken|took) over (?:my|the) account",
        r"changed (?:the|my) (?:email|password|e-mail)",
    ]
)
_CHARGED_AGAIN = compile_phrases(
    [
        r"charged (?:me )?(?:twice|two times|three times|double)",
        r"double[- ]?charged",
        r"overcharged",
        r"billed (?:me )?twice",
        r"(?:extra|duplicate|double) charges?",
    ]
)


def category_with_precedence(category: str, text: str, rule_flag_names: Iterable[str]) -> str:
    """``category`` (the head's) overridden by policy precedence: account_privacy for a
    takeover or when the phrase rules raised privacy_request or data_exposure; else
    billing_refund for a double charge."""
    if PRIVACY_FLAGS & set(rule_flag_names) or _TAKEOVER.search(text):
        return "account_privacy"
    if _CHARGED_AGAIN.search(text):
        return "billing_refund"
    return category
