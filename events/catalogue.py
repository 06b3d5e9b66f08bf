"""The event catalogue (SPEC appendix A), loaded into ``EventType`` by a data migration.

Seed 004's ten system events, the ``test`` event (seed 001's TESTHOOK), and the billing
events of seeds 000-003 keyed in the same dotted style. Where two seeds name the same
event (``customer.created``, ``contract.created``, ``invoice.created`` ...) it appears once.
"""

# The catalogue's test event (seed 001's TESTHOOK): what "Send test event" sends.
TEST_EVENT_TYPE = "test"

STANDARD = "standard"
ON_DEMAND = "on_demand"

_CUSTOMER = {
    "id": "K1234",
    "firstName": "Holger",
    "lastName": "Tester",
    "email": "mail@example.net",
    "locale": "de_DE",
    "billingAddress": {"addressLine1": "Teststraße 1", "zipCode": "12345", "cityName": "Testhausen", "country": "DE"},
}
_ORDER = {
    "id": "A-1001",
    "number": "1001",
    "total": "49.90",
    "currency": "EUR",
    "funnel": None,
    "customer": {"id": "K1234", "email": "mail@example.net"},
    "items": [{"sku": "EBOOK-1", "name": "E-book", "quantity": 1, "price": "49.90"}],
}
_TRANSACTION = {"id": "T-5001", "orderId": "A-1001", "amount": "49.90", "currency": "EUR", "gateway": "card"}
_INVOICE = {
    "id": "INV-2026-00123",
    "number": "2026-00123",
    "customerId": "K1234",
    "total": "119.00",
    "currency": "EUR",
    "status": "open",
}
_CONTRACT = {"id": "C-77", "customerId": "K1234", "plan": "pro-monthly", "status": "active", "startDate": "2026-11-01"}
_ADDRESS = {
    "id": "AD-9",
    "customerId": "K1234",
    "addressLine1": "Teststraße 1",
    "zipCode": "12345",
    "cityName": "Testhausen",
    "country": "DE",
}
_ITEM = {"id": "ITEM-3", "name": "Pro plan", "price": "19.00", "currency": "EUR"}
_PAYMENT = {"id": "P-42", "invoiceId": "INV-2026-00123", "amount": "119.00", "currency": "EUR"}
_PROFORMA = {"id": "PF-12", "customerId": "K1234", "total": "59.00", "currency": "EUR"}
_DOCUMENT = {
    "documentId": "INV-2025-00123",
    "externalStatus": "APPROVED",
    "currentStatus": "OK",
    "flowDetail": "VERIFACTU",
}

_ORDER_SCHEMA = {
    "type": "object",
    "required": ["order"],
    "properties": {
        "order": {"type": "object", "required": ["id"], "properties": {"id": {"type": ["string", "integer"]}}}
    },
}
_TRANSACTION_SCHEMA = {
    "type": "object",
    "required": ["transaction"],
    "properties": {"transaction": {"type": "object", "required": ["id"]}},
}


def _e(
    key,
    name,
    category,
    description,
    payload,
    *,
    availability=STANDARD,
    manual_retry=False,
    postback_only=False,
    schema=None,
):
    return {
        "key": key,
        "name": name,
        "category": category,
        "description": description,
        "availability": availability,
        "manual_retry": manual_retry,
        "postback_only": postback_only,
        "example_payload": payload,
        "payload_schema": schema,
    }


CATALOGUE = [
    # --- Seed 004: system notifications -------------------------------------------
    _e(
        "order.completed",
        "Order completed",
        "Orders",
        "A successful order is closed: a purchase in admin, quote or shop; in funnels when the customer reaches "
        "the thank-you page, or 30 minutes after the first purchase on a funnel page.",
        {"order": _ORDER},
        manual_retry=True,
        schema=_ORDER_SCHEMA,
    ),
    _e(
        "contact.created",
        "Contact created",
        "Contacts",
        "A lead is created through the admin, shop or a funnel page, or a lead/customer is reactivated in the shop or a funnel.",
        {"contact": {"id": "L-77", "email": "lead@example.net", "firstName": "Ada", "lastName": "Lovelace"}},
    ),
    _e(
        "shipping.tracking_updated",
        "Shipping tracking info updated",
        "Shipping",
        "The tracking information of an order was updated.",
        {
            "order": {"id": "A-1001"},
            "tracking": {"carrier": "DHL", "number": "JJD000390007", "url": "https://example.net/track/JJD000390007"},
        },
    ),
    _e(
        "product.conflict",
        "Product conflict",
        "Products",
        "A customer bought a digital product they already own.",
        {"order": {"id": "A-1001"}, "product": {"id": "EBOOK-1", "name": "E-book"}, "customer": {"id": "K1234"}},
    ),
    _e(
        "transaction.approved",
        "Transaction approved",
        "Transactions",
        "A purchase transaction succeeded. In funnels an order can have several transactions (upsells), so this may fire several times per purchase.",
        {"transaction": _TRANSACTION},
        manual_retry=True,
        schema=_TRANSACTION_SCHEMA,
    ),
    _e(
        "transaction.declined",
        "Transaction declined",
        "Transactions",
        "A purchase transaction was rejected. In funnels an order can have several transactions (upsells), so this may fire several times per purchase.",
        {"transaction": {**_TRANSACTION, "declineReason": "insufficient_funds"}},
        manual_retry=True,
        schema=_TRANSACTION_SCHEMA,
    ),
    _e(
        "refund.applied",
        "Refund applied",
        "Transactions",
        "A refund or void was applied.",
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
    ),
    _e(
        "subscription.canceled",
        "Subscription canceled",
        "Subscriptions",
        "A subscription was canceled.",
        {
            "subscription": {
                "id": "S-88",
                "customerId": "K1234",
                "plan": "pro-monthly",
                "canceledAt": "2026-11-23T10:15:00Z",
            }
        },
    ),
    _e(
        "customer.created",
        "Customer created",
        "Customers",
        "A lead makes their first successful purchase, or a new customer record is created. Postback channels only.",
        {"customer": _CUSTOMER},
        postback_only=True,
    ),
    _e(
        "survey.completed",
        "Survey completed",
        "Surveys",
        "A survey was finished. Postback channels only.",
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
    _e(
        "test",
        "Test call",
        "Test",
        "A test call with dummy data, sent on demand to check that a channel receives and verifies postbacks.",
        {"dummyData": {"message": "This is a test postback.", "id": 1, "ok": True}},
    ),
    # --- Customers (seeds 000, 001) -------------------------------------------------
    _e(
        "customer.updated",
        "Customer updated",
        "Customers",
        "An existing customer was changed.",
        {"customer": _CUSTOMER},
    ),
    _e("customer.deleted", "Customer deleted", "Customers", "A customer was deleted.", {"customer": {"id": "K1234"}}),
    _e(
        "customer.change_requested",
        "Customer change requested",
        "Customers",
        "A change of customer data was requested in the customer center.",
        {"changeCustomer": {"customerId": "K1234", "email": "new@example.net"}},
    ),
    # --- Addresses (seed 000) -------------------------------------------------------
    _e(
        "address.created",
        "Address created",
        "Addresses",
        "A new address record was created for a customer.",
        {"address": _ADDRESS},
        availability=ON_DEMAND,
    ),
    _e(
        "address.updated",
        "Address updated",
        "Addresses",
        "An address record of a customer was changed.",
        {"address": _ADDRESS},
        availability=ON_DEMAND,
    ),
    # --- Orders (seeds 000, 001) ----------------------------------------------------
    _e(
        "order.created",
        "Order created",
        "Orders",
        "A new order was created.",
        {"order": _ORDER},
        availability=ON_DEMAND,
    ),
    _e(
        "order.updated",
        "Order updated",
        "Orders",
        "An existing order was changed.",
        {"order": _ORDER},
        availability=ON_DEMAND,
    ),
    _e(
        "order.canceled",
        "Order canceled",
        "Orders",
        "An existing order was canceled.",
        {"order": _ORDER},
        availability=ON_DEMAND,
    ),
    _e(
        "order.received",
        "Order received",
        "Orders",
        "An order was received.",
        {"orderCustomer": {"orderId": "A-1001", "customer": _CUSTOMER}},
    ),
    _e(
        "order.processed",
        "Order processed",
        "Orders",
        "An order was processed and its customer created.",
        {"orderCustomer": {"orderId": "A-1001"}, "customer": _CUSTOMER},
    ),
    _e(
        "order.psp_event",
        "Order payment event",
        "Orders",
        "Payment activity on an order, from the payment service provider.",
        {"orderCustomer": {"orderId": "A-1001"}, "psp": {"event": "authorized"}},
    ),
    # --- Items (seed 001) -----------------------------------------------------------
    _e("item.created", "Item created", "Items", "An item (article) was created.", {"item": _ITEM}),
    _e("item.updated", "Item updated", "Items", "An item (article) was changed.", {"item": _ITEM}),
    _e("item.deleted", "Item deleted", "Items", "An item (article) was deleted.", {"item": {"id": "ITEM-3"}}),
    # --- Contracts (seeds 000, 001) -------------------------------------------------
    _e(
        "contract.created",
        "Contract created",
        "Contracts",
        "A new contract (subscription) was created.",
        {"contract": _CONTRACT},
    ),
    _e("contract.activated", "Contract activated", "Contracts", "A contract was activated.", {"contract": _CONTRACT}),
    _e(
        "contract.updated",
        "Contract updated",
        "Contracts",
        "An existing contract was changed.",
        {"contract": _CONTRACT},
    ),
    _e(
        "contract.terminated",
        "Contract terminated",
        "Contracts",
        "A contract was terminated in the regular manner.",
        {"contract": _CONTRACT},
    ),
    _e(
        "contract.canceled",
        "Contract canceled",
        "Contracts",
        "A contract was terminated extraordinarily.",
        {"contract": _CONTRACT},
    ),
    _e(
        "contract.ended",
        "Contract ended",
        "Contracts",
        "A contract reached its termination date.",
        {"contract": _CONTRACT},
    ),
    _e(
        "contract.renewed",
        "Contract renewed",
        "Contracts",
        "A contract was extended by the term of its plan.",
        {"contract": _CONTRACT},
        availability=ON_DEMAND,
    ),
    # --- Documents (seeds 000, 002) -------------------------------------------------
    _e(
        "document.status_changed",
        "Document status changed",
        "Documents",
        "The internal processing status of a document changed.",
        _DOCUMENT,
    ),
    _e(
        "document.archived",
        "Document archived",
        "Documents",
        "A document was stored in the file archive and can be fetched.",
        {"document": {"id": "INV-2025-00123"}},
    ),
    # --- Invoices (seeds 000-003) ---------------------------------------------------
    _e("invoice.created", "Invoice created", "Invoices", "An invoice (document) was created.", {"invoice": _INVOICE}),
    _e(
        "invoice.updated",
        "Invoice updated",
        "Invoices",
        "An invoice's meta-information or status was updated.",
        {"invoice": _INVOICE},
    ),
    _e(
        "invoice.status_changed",
        "Invoice status changed",
        "Invoices",
        "The external lifecycle status of an invoice changed.",
        {**_DOCUMENT, "externalStatus": "PAID"},
    ),
    _e("invoice.adjusted", "Invoice adjusted", "Invoices", "An invoice was adjusted.", {"invoice": _INVOICE}),
    _e("invoice.paid", "Invoice paid", "Invoices", "An invoice was paid.", {"invoice": {**_INVOICE, "status": "paid"}}),
    _e(
        "invoice.canceled",
        "Invoice canceled",
        "Invoices",
        "An invoice was canceled.",
        {"invoice": {**_INVOICE, "status": "canceled"}},
    ),
    _e("invoice.credited", "Invoice credited", "Invoices", "An invoice was credited.", {"invoice": _INVOICE}),
    _e("invoice.duplicated", "Invoice duplicated", "Invoices", "An invoice was duplicated.", {"invoice": _INVOICE}),
    _e(
        "invoice.due_date_updated",
        "Invoice due date updated",
        "Invoices",
        "An invoice's due date changed.",
        {"invoice": {**_INVOICE, "dueDate": "2026-12-23"}},
    ),
    _e("invoice.refreshed", "Invoice refreshed", "Invoices", "An invoice was refreshed.", {"invoice": _INVOICE}),
    _e(
        "invoice.correction_created",
        "Invoice correction created",
        "Invoices",
        "An invoice correction was created.",
        {"invoicecorrection": {"id": "IC-4", "invoiceId": "INV-2026-00123", "total": "-19.00"}},
    ),
    _e(
        "invoice.pdf_generated",
        "Invoice PDF generated",
        "Invoices",
        "An invoice's PDF was generated.",
        {"invoice": _INVOICE},
    ),
    _e(
        "invoice.pdf_regenerated",
        "Invoice PDF regenerated",
        "Invoices",
        "An invoice's PDF was generated again.",
        {"invoice": _INVOICE},
    ),
    _e("invoice.shared", "Invoice shared", "Invoices", "An invoice was shared.", {"invoice": _INVOICE}),
    _e("invoice.overdue", "Invoice overdue", "Invoice notifications", "An invoice is overdue.", {"invoice": _INVOICE}),
    _e(
        "invoice.pre_due",
        "Invoice due soon",
        "Invoice notifications",
        "An invoice is about to fall due.",
        {"invoice": _INVOICE},
    ),
    # --- Payments (seeds 000, 001, 003) -----------------------------------------------
    _e(
        "invoice.payment_received",
        "Invoice payment received",
        "Payments",
        "A payment for an invoice was received.",
        {"invoice": _INVOICE, "payDate": "2026-11-23", "payAmount": 119.0},
    ),
    _e(
        "invoice.paid_with_next_card",
        "Invoice paid with next card",
        "Payments",
        "An invoice was paid with the customer's next card.",
        {"invoice": _INVOICE},
    ),
    _e(
        "invoice.payment_failed",
        "Invoice payment failed",
        "Payments",
        "A payment of an invoice failed.",
        {"invoice": _INVOICE, "reason": "card_declined"},
    ),
    _e(
        "invoice.payment_missing_data",
        "Invoice payment missing data",
        "Payments",
        "A payment could not be made for missing data.",
        {"invoice": _INVOICE},
    ),
    _e(
        "invoice.payment_swapped",
        "Invoice payment swapped",
        "Payments",
        "An invoice's payment was swapped.",
        {"invoice": _INVOICE},
    ),
    _e(
        "invoice.payment_card_expired",
        "Invoice payment card expired",
        "Payments",
        "The card for an invoice's payment expired.",
        {"invoice": _INVOICE},
    ),
    _e(
        "invoice.payment_method_resolved",
        "Invoice payment method resolved",
        "Payments",
        "The payment method type of an invoice was resolved.",
        {"invoice": _INVOICE},
    ),
    _e(
        "invoice.payment_restored",
        "Invoice payment restored",
        "Payments",
        "An invoice's payment was restored.",
        {"invoice": _INVOICE},
    ),
    _e(
        "invoice.payment_3ds_required",
        "Invoice payment needs 3-D Secure",
        "Payments",
        "A payment needs 3-D Secure authentication.",
        {"invoice": _INVOICE},
    ),
    _e(
        "invoice.capture_failed",
        "Invoice capture failed",
        "Payments",
        "Capturing an invoice's payment failed.",
        {"invoice": _INVOICE},
    ),
    _e(
        "payment_intent.result",
        "Payment intent result",
        "Payments",
        "A payment intent was processed by the payment service provider.",
        {"paymentIntent": {"id": "PI-7", "status": "succeeded", "amount": "119.00"}},
        availability=ON_DEMAND,
    ),
    _e(
        "payment_assignment.processed",
        "Payment assigned",
        "Payments",
        "A payment was assigned to a document or an order.",
        {"payment": _PAYMENT},
        availability=ON_DEMAND,
    ),
    _e(
        "payment_assignment.reversed",
        "Payment assignment reversed",
        "Payments",
        "An assigned payment was reversed.",
        {"payment": _PAYMENT},
        availability=ON_DEMAND,
    ),
    # --- Refunds (seed 003) ---------------------------------------------------------
    _e(
        "invoice.refund_requested",
        "Invoice refund requested",
        "Refunds",
        "A refund of an invoice was requested.",
        {"invoice": _INVOICE},
    ),
    _e("invoice.refunded", "Invoice refunded", "Refunds", "An invoice was refunded.", {"invoice": _INVOICE}),
    _e(
        "invoice.refund_failed",
        "Invoice refund failed",
        "Refunds",
        "A pro-rata transaction refund failed.",
        {"invoice": _INVOICE},
    ),
    _e(
        "invoice.refund_confirmed",
        "Invoice refund confirmed",
        "Refunds",
        "A refund was confirmed by the payment provider.",
        {"invoice": _INVOICE},
    ),
    # --- Dunning (seed 001) ---------------------------------------------------------
    _e(
        "dunning.created",
        "Dunning sent",
        "Dunning",
        "A dunning notice was sent.",
        {"invoice": _INVOICE, "dunningLevel": 1},
    ),
    # --- Proformas (seed 003) -------------------------------------------------------
    _e("proforma.created", "Proforma created", "Proformas", "A proforma invoice was created.", {"proforma": _PROFORMA}),
    _e(
        "proforma.canceled",
        "Proforma canceled",
        "Proformas",
        "A proforma invoice was canceled.",
        {"proforma": _PROFORMA},
    ),
    _e(
        "proforma.credited",
        "Proforma credited",
        "Proformas",
        "A proforma invoice was credited.",
        {"proforma": _PROFORMA},
    ),
    # --- Baskets and commissions (seed 003) -------------------------------------------
    _e(
        "basket.abandoned",
        "Basket abandoned",
        "Baskets",
        "A shopping basket was abandoned.",
        {"basket": {"id": "B-1", "customerId": "K1234", "items": [{"sku": "EBOOK-1", "quantity": 1}]}},
    ),
    _e(
        "invoice.commission_attempted",
        "Commission calculation attempted",
        "Commissions",
        "A commission calculation for an invoice was attempted.",
        {"invoice": _INVOICE, "commission": {"amount": "5.00"}},
    ),
]

KEYS = [entry["key"] for entry in CATALOGUE]
assert len(KEYS) == len(set(KEYS)), "duplicate key in the catalogue"


def load_catalogue(event_type_model) -> int:
    """Create missing event types and refresh the descriptive fields of existing ones.

    The staff toggle (``enabled``) of an existing type is never touched. Takes the model
    class as an argument so that data migrations can pass their historical model.
    Returns the number of types created.
    """
    created = 0
    for position, entry in enumerate(CATALOGUE):
        fields = {k: v for k, v in entry.items() if k != "key"}
        _, was_created = event_type_model.objects.update_or_create(
            key=entry["key"], defaults={**fields, "position": position}
        )
        created += was_created
    return created
