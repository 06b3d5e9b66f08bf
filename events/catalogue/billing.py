"""Invoices, payments, refunds, dunning, proformas, baskets and commissions (seeds 000-003)."""

from events.catalogue.examples import DOCUMENT, INVOICE, ON_DEMAND, PAYMENT, PROFORMA, entry

BILLING = [
    # --- Invoices (seeds 000-003) ---------------------------------------------------
    entry("invoice.created", "Invoice created", "Invoices", "An invoice (document) was created.", {"invoice": INVOICE}),
    entry(
        "invoice.updated",
        "Invoice updated",
        "Invoices",
        "An invoice's meta-information or status was updated.",
        {"invoice": INVOICE},
    ),
    entry(
        "invoice.status_changed",
        "Invoice status changed",
        "Invoices",
        "The external lifecycle status of an invoice changed.",
        {**DOCUMENT, "externalStatus": "PAID"},
    ),
    entry("invoice.adjusted", "Invoice adjusted", "Invoices", "An invoice was adjusted.", {"invoice": INVOICE}),
    entry(
        "invoice.paid", "Invoice paid", "Invoices", "An invoice was paid.", {"invoice": {**INVOICE, "status": "paid"}}
    ),
    entry(
        "invoice.canceled",
        "Invoice canceled",
        "Invoices",
        "An invoice was canceled.",
        {"invoice": {**INVOICE, "status": "canceled"}},
    ),
    entry("invoice.credited", "Invoice credited", "Invoices", "An invoice was credited.", {"invoice": INVOICE}),
    entry("invoice.duplicated", "Invoice duplicated", "Invoices", "An invoice was duplicated.", {"invoice": INVOICE}),
    entry(
        "invoice.due_date_updated",
        "Invoice due date updated",
        "Invoices",
        "An invoice's due date changed.",
        {"invoice": {**INVOICE, "dueDate": "2026-12-23"}},
    ),
    entry("invoice.refreshed", "Invoice refreshed", "Invoices", "An invoice was refreshed.", {"invoice": INVOICE}),
    entry(
        "invoice.correction_created",
        "Invoice correction created",
        "Invoices",
        "An invoice correction was created.",
        {"invoicecorrection": {"id": "IC-4", "invoiceId": "INV-2026-00123", "total": "-19.00"}},
    ),
    entry(
        "invoice.pdf_generated",
        "Invoice PDF generated",
        "Invoices",
        "An invoice's PDF was generated.",
        {"invoice": INVOICE},
    ),
    entry(
        "invoice.pdf_regenerated",
        "Invoice PDF regenerated",
        "Invoices",
        "An invoice's PDF was generated again.",
        {"invoice": INVOICE},
    ),
    entry("invoice.shared", "Invoice shared", "Invoices", "An invoice was shared.", {"invoice": INVOICE}),
    entry(
        "invoice.overdue", "Invoice overdue", "Invoice notifications", "An invoice is overdue.", {"invoice": INVOICE}
    ),
    entry(
        "invoice.pre_due",
        "Invoice due soon",
        "Invoice notifications",
        "An invoice is about to fall due.",
        {"invoice": INVOICE},
    ),
    # --- Payments (seeds 000, 001, 003) -----------------------------------------------
    entry(
        "invoice.payment_received",
        "Invoice payment received",
        "Payments",
        "A payment for an invoice was received.",
        {"invoice": INVOICE, "payDate": "2026-11-23", "payAmount": 119.0},
    ),
    entry(
        "invoice.paid_with_next_card",
        "Invoice paid with next card",
        "Payments",
        "An invoice was paid with the customer's next card.",
        {"invoice": INVOICE},
    ),
    entry(
        "invoice.payment_failed",
        "Invoice payment failed",
        "Payments",
        "A payment of an invoice failed.",
        {"invoice": INVOICE, "reason": "card_declined"},
    ),
    entry(
        "invoice.payment_missing_data",
        "Invoice payment missing data",
        "Payments",
        "A payment could not be made for missing data.",
        {"invoice": INVOICE},
    ),
    entry(
        "invoice.payment_swapped",
        "Invoice payment swapped",
        "Payments",
        "An invoice's payment was swapped.",
        {"invoice": INVOICE},
    ),
    entry(
        "invoice.payment_card_expired",
        "Invoice payment card expired",
        "Payments",
        "The card for an invoice's payment expired.",
        {"invoice": INVOICE},
    ),
    entry(
        "invoice.payment_method_resolved",
        "Invoice payment method resolved",
        "Payments",
        "The payment method type of an invoice was resolved.",
        {"invoice": INVOICE},
    ),
    entry(
        "invoice.payment_restored",
        "Invoice payment restored",
        "Payments",
        "An invoice's payment was restored.",
        {"invoice": INVOICE},
    ),
    entry(
        "invoice.payment_3ds_required",
        "Invoice payment needs 3-D Secure",
        "Payments",
        "A payment needs 3-D Secure authentication.",
        {"invoice": INVOICE},
    ),
    entry(
        "invoice.capture_failed",
        "Invoice capture failed",
        "Payments",
        "Capturing an invoice's payment failed.",
        {"invoice": INVOICE},
    ),
    entry(
        "payment_intent.result",
        "Payment intent result",
        "Payments",
        "A payment intent was processed by the payment service provider.",
        {"paymentIntent": {"id": "PI-7", "status": "succeeded", "amount": "119.00"}},
        availability=ON_DEMAND,
    ),
    entry(
        "payment_assignment.processed",
        "Payment assigned",
        "Payments",
        "A payment was assigned to a document or an order.",
        {"payment": PAYMENT},
        availability=ON_DEMAND,
    ),
    entry(
        "payment_assignment.reversed",
        "Payment assignment reversed",
        "Payments",
        "An assigned payment was reversed.",
        {"payment": PAYMENT},
        availability=ON_DEMAND,
    ),
    # --- Refunds (seed 003) ---------------------------------------------------------
    entry(
        "invoice.refund_requested",
        "Invoice refund requested",
        "Refunds",
        "A refund of an invoice was requested.",
        {"invoice": INVOICE},
    ),
    entry("invoice.refunded", "Invoice refunded", "Refunds", "An invoice was refunded.", {"invoice": INVOICE}),
    entry(
        "invoice.refund_failed",
        "Invoice refund failed",
        "Refunds",
        "A pro-rata transaction refund failed.",
        {"invoice": INVOICE},
    ),
    entry(
        "invoice.refund_confirmed",
        "Invoice refund confirmed",
        "Refunds",
        "A refund was confirmed by the payment provider.",
        {"invoice": INVOICE},
    ),
    # --- Dunning (seed 001) ---------------------------------------------------------
    entry(
        "dunning.created",
        "Dunning sent",
        "Dunning",
        "A dunning notice was sent.",
        {"invoice": INVOICE, "dunningLevel": 1},
    ),
    # --- Proformas (seed 003) -------------------------------------------------------
    entry(
        "proforma.created", "Proforma created", "Proformas", "A proforma invoice was created.", {"proforma": PROFORMA}
    ),
    entry(
        "proforma.canceled",
        "Proforma canceled",
        "Proformas",
        "A proforma invoice was canceled.",
        {"proforma": PROFORMA},
    ),
    entry(
        "proforma.credited",
        "Proforma credited",
        "Proformas",
        "A proforma invoice was credited.",
        {"proforma": PROFORMA},
    ),
    # --- Baskets and commissions (seed 003) -------------------------------------------
    entry(
        "basket.abandoned",
        "Basket abandoned",
        "Baskets",
        "A shopping basket was abandoned.",
        {"basket": {"id": "B-1", "customerId": "K1234", "items": [{"sku": "EBOOK-1", "quantity": 1}]}},
    ),
    entry(
        "invoice.commission_attempted",
        "Commission calculation attempted",
        "Commissions",
        "A commission calculation for an invoice was attempted.",
        {"invoice": INVOICE, "commission": {"amount": "5.00"}},
    ),
]
