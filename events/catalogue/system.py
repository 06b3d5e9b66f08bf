"""Seed 004's ten system events, and the ``test`` event (seed 001's TESTHOOK)."""

from django.utils.translation import gettext_noop

from events.catalogue.examples import (
    CUSTOMER,
    ORDER,
    ORDER_SCHEMA,
    TRANSACTION,
    TRANSACTION_SCHEMA,
    documented_schema,
    entry,
)

SYSTEM = [
    # --- Seed 004: system notifications -------------------------------------------
    entry(
        "order.completed",
        gettext_noop("Order completed"),
        gettext_noop("Orders"),
        gettext_noop(
            "A successful order is closed: a purchase in admin, quote or shop; in funnels when the customer reaches "
            "the thank-you page, or 30 minutes after the first purchase on a funnel page."
        ),
        {"order": ORDER},
        manual_retry=True,
        critical=True,
        schema=ORDER_SCHEMA,
    ),
    entry(
        "contact.created",
        gettext_noop("Contact created"),
        gettext_noop("Contacts"),
        gettext_noop(
            "A lead is created through the admin, shop or a funnel page, or a lead/customer is reactivated in the shop or a funnel."
        ),
        {"contact": {"id": "L-77", "email": "lead@example.net", "firstName": "Ada", "lastName": "Lovelace"}},
    ),
    entry(
        "shipping.tracking_updated",
        gettext_noop("Shipping tracking info updated"),
        gettext_noop("Shipping"),
        gettext_noop("The tracking information of an order was updated."),
        {
            "order": {"id": "A-1001"},
            "tracking": {"carrier": "DHL", "number": "JJD000390007", "url": "https://example.net/track/JJD000390007"},
        },
    ),
    entry(
        "product.conflict",
        gettext_noop("Product conflict"),
        gettext_noop("Products"),
        gettext_noop("A customer bought a digital product they already own."),
        {"order": {"id": "A-1001"}, "product": {"id": "EBOOK-1", "name": "E-book"}, "customer": {"id": "K1234"}},
    ),
    entry(
        "transaction.approved",
        gettext_noop("Transaction approved"),
        gettext_noop("Transactions"),
        gettext_noop(
            "A purchase transaction succeeded. In funnels an order can have several transactions (upsells), so this may fire several times per purchase."
        ),
        {"transaction": TRANSACTION},
        manual_retry=True,
        critical=True,
        schema=TRANSACTION_SCHEMA,
    ),
    entry(
        "transaction.declined",
        gettext_noop("Transaction declined"),
        gettext_noop("Transactions"),
        gettext_noop(
            "A purchase transaction was rejected. In funnels an order can have several transactions (upsells), so this may fire several times per purchase."
        ),
        {"transaction": {**TRANSACTION, "declineReason": "insufficient_funds"}},
        manual_retry=True,
        critical=True,
        schema=TRANSACTION_SCHEMA,
    ),
    entry(
        "refund.applied",
        gettext_noop("Refund applied"),
        gettext_noop("Transactions"),
        gettext_noop("A refund or void was applied."),
        {
            "refund": {
                "id": "R-300",
                "transactionId": "T-5001",
                "orderId": "A-1001",
                "amount": "49.90",
                "currency": "EUR",
            }
        },
        manual_retry=True,
        critical=True,
    ),
    entry(
        "subscription.canceled",
        gettext_noop("Subscription canceled"),
        gettext_noop("Subscriptions"),
        gettext_noop("A subscription was canceled."),
        {
            "subscription": {
                "id": "S-88",
                "customerId": "K1234",
                "plan": "pro-monthly",
                "canceledAt": "2026-11-23T10:15:00Z",
            }
        },
    ),
    entry(
        "customer.created",
        gettext_noop("Customer created"),
        gettext_noop("Customers"),
        gettext_noop(
            "A lead makes their first successful purchase, or a new customer record is created. Postback channels only."
        ),
        {"customer": CUSTOMER},
        postback_only=True,
    ),
    entry(
        "survey.completed",
        gettext_noop("Survey completed"),
        gettext_noop("Surveys"),
        gettext_noop("A survey was finished. Postback channels only."),
        {
            "survey": {
                "id": "SV-5",
                "contactId": "L-77",
                "answers": [{"question": "How did you hear about us?", "answer": "A friend"}],
            }
        },
        postback_only=True,
    ),
    # --- Test (seed 001's TESTHOOK) ---------------------------------------------------
    entry(
        "test",
        gettext_noop("Test call"),
        gettext_noop("Test"),
        gettext_noop(
            "A test call with dummy data, sent on demand to check that a channel receives and verifies postbacks."
        ),
        {"dummyData": {"message": "This is a test postback.", "id": 1, "ok": True}},
    ),
]

# Seed 004's ten: each documents its payload (``payload_schema``), derived from its example where no
# stricter schema was written by hand.
for _entry in SYSTEM[:10]:
    _entry["payload_schema"] = _entry["payload_schema"] or documented_schema(_entry["example_payload"])
