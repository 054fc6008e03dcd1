"""Plain-language words for the code's names: the complaint types and the risk flags.

The names themselves come from the configuration (``[policy] categories``) and
``bot.models.RISK_FLAGS``; this table only explains them. A configured type with no entry is
shown as undefined in the document rather than given made-up words.
"""

from __future__ import annotations

# name -> (title, what it covers). Order of precedence is PRECEDENCE below.
CATEGORY_TEXT: dict[str, tuple[str, str]] = {
    "shipping_delivery": (
        "Shipping and delivery",
        "orders that are late, lost, stolen, damaged in transit or sent to the wrong address",
    ),
    "product_quality": (
        "Product quality",
        "products that are faulty, broken, poorly made, the wrong size or not as described",
    ),
    "billing_refund": (
        "Billing and refunds",
        "any problem with a charge, a refund, a price or a promotion code",
    ),
    "customer_service": (
        "Customer service",
        "the handling itself (no answer, a rude or unhelpful reply, being ignored) when "
        "nothing more specific applies",
    ),
    "account_privacy": (
        "Account and privacy",
        "any data breach, request about personal data or account takeover, and other "
        "account problems",
    ),
    "website_app": (
        "Website and app",
        "the website or app not working: errors, outages, checkout or login failures",
    ),
    "other": ("Other", "every complaint that fits none of the types above"),
}

# When a complaint fits several types, the first of these that applies wins (policy.md).
PRECEDENCE: tuple[tuple[str, str], ...] = (
    ("account_privacy", "any breach, data request or account takeover"),
    ("billing_refund", "any charge, refund, price or promo-code problem"),
)

# flag -> (title, what raises it)
FLAG_TEXT: dict[str, tuple[str, str]] = {
    "safety": (
        "Safety",
        "injury, burns, fire, smoke, electric shock, choking, a chemical smell or a recall",
    ),
    "legal": (
        "Legal",
        "a lawyer or attorney, suing, small claims, a class action, the Attorney General, the "
        "BBB, a chargeback or a regulator",
    ),
    "privacy_request": (
        "Privacy request",
        '"delete my data", "what data do you have", "stop selling my info", the CCPA',
    ),
    "data_exposure": ("Data exposure", "someone received another customer's personal data"),
}

UNDEFINED = "no definition written for this type yet: add one before publishing"
