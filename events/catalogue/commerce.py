"""Customers, addresses, orders, items, contracts and documents (seeds 000-002)."""

from django.utils.translation import gettext_noop

from events.catalogue.examples import ADDRESS, CONTRACT, CUSTOMER, DOCUMENT, ITEM, ON_DEMAND, ORDER, entry

COMMERCE = [
    # --- Customers (seeds 000, 001) -------------------------------------------------
    entry(
        "customer.updated",
        gettext_noop("Customer updated"),
        gettext_noop("Customers"),
        gettext_noop("An existing customer was changed."),
        {"customer": CUSTOMER},
    ),
    entry(
        "customer.deleted",
        gettext_noop("Customer deleted"),
        gettext_noop("Customers"),
        gettext_noop("A customer was deleted."),
        {"customer": {"id": "K1234"}},
    ),
    entry(
        "customer.change_requested",
        gettext_noop("Customer change requested"),
        gettext_noop("Customers"),
        gettext_noop("A change of customer data was requested in the customer center."),
        {"changeCustomer": {"customerId": "K1234", "email": "new@example.net"}},
    ),
    # --- Addresses (seed 000) -------------------------------------------------------
    entry(
        "address.created",
        gettext_noop("Address created"),
        gettext_noop("Addresses"),
        gettext_noop("A new address record was created for a customer."),
        {"address": ADDRESS},
        availability=ON_DEMAND,
    ),
    entry(
        "address.updated",
        gettext_noop("Address updated"),
        gettext_noop("Addresses"),
        gettext_noop("An address record of a customer was changed."),
        {"address": ADDRESS},
        availability=ON_DEMAND,
    ),
    # --- Orders (seeds 000, 001) ----------------------------------------------------
    entry(
        "order.created",
        gettext_noop("Order created"),
        gettext_noop("Orders"),
        gettext_noop("A new order was created."),
        {"order": ORDER},
        availability=ON_DEMAND,
    ),
    entry(
        "order.updated",
        gettext_noop("Order updated"),
        gettext_noop("Orders"),
        gettext_noop("An existing order was changed."),
        {"order": ORDER},
        availability=ON_DEMAND,
    ),
    entry(
        "order.canceled",
        gettext_noop("Order canceled"),
        gettext_noop("Orders"),
        gettext_noop("An existing order was canceled."),
        # Seed 000's order.cancelled carries the order; seed 001's ORDER_CANCELLED an orderCustomer.
        {"order": ORDER, "orderCustomer": {"orderId": "A-1001"}},
        availability=ON_DEMAND,
    ),
    entry(
        "order.received",
        gettext_noop("Order received"),
        gettext_noop("Orders"),
        gettext_noop("An order was received."),
        {"orderCustomer": {"orderId": "A-1001", "customer": CUSTOMER}},
    ),
    entry(
        "order.processed",
        gettext_noop("Order processed"),
        gettext_noop("Orders"),
        gettext_noop("An order was processed and its customer created."),
        {"orderCustomer": {"orderId": "A-1001"}, "customer": CUSTOMER},
    ),
    entry(
        "order.psp_event",
        gettext_noop("Order payment event"),
        gettext_noop("Orders"),
        gettext_noop("Payment activity on an order, from the payment service provider."),
        {"orderCustomer": {"orderId": "A-1001"}, "psp": {"event": "authorized"}},
    ),
    # --- Items (seed 001) -----------------------------------------------------------
    entry(
        "item.created",
        gettext_noop("Item created"),
        gettext_noop("Items"),
        gettext_noop("An item (article) was created."),
        {"item": ITEM},
    ),
    entry(
        "item.updated",
        gettext_noop("Item updated"),
        gettext_noop("Items"),
        gettext_noop("An item (article) was changed."),
        {"item": ITEM},
    ),
    entry(
        "item.deleted",
        gettext_noop("Item deleted"),
        gettext_noop("Items"),
        gettext_noop("An item (article) was deleted."),
        {"item": {"id": "ITEM-3"}},
    ),
    # --- Contracts (seeds 000, 001) -------------------------------------------------
    entry(
        "contract.created",
        gettext_noop("Contract created"),
        gettext_noop("Contracts"),
        gettext_noop("A new contract (subscription) was created."),
        {"contract": CONTRACT},
    ),
    entry(
        "contract.activated",
        gettext_noop("Contract activated"),
        gettext_noop("Contracts"),
        gettext_noop("A contract was activated."),
        {"contract": CONTRACT},
    ),
    entry(
        "contract.updated",
        gettext_noop("Contract updated"),
        gettext_noop("Contracts"),
        gettext_noop("An existing contract was changed."),
        {"contract": CONTRACT},
    ),
    entry(
        "contract.terminated",
        gettext_noop("Contract terminated"),
        gettext_noop("Contracts"),
        gettext_noop("A contract was terminated in the regular manner."),
        {"contract": CONTRACT},
    ),
    entry(
        "contract.canceled",
        gettext_noop("Contract canceled"),
        gettext_noop("Contracts"),
        gettext_noop("A contract was terminated extraordinarily."),
        {"contract": CONTRACT},
    ),
    entry(
        "contract.ended",
        gettext_noop("Contract ended"),
        gettext_noop("Contracts"),
        gettext_noop("A contract reached its termination date."),
        {"contract": CONTRACT},
    ),
    entry(
        "contract.renewed",
        gettext_noop("Contract renewed"),
        gettext_noop("Contracts"),
        gettext_noop("A contract was extended by the term of its plan."),
        {"contract": CONTRACT},
        availability=ON_DEMAND,
    ),
    # --- Documents (seeds 000, 002) -------------------------------------------------
    entry(
        "document.status_changed",
        gettext_noop("Document status changed"),
        gettext_noop("Documents"),
        gettext_noop("The internal processing status of a document changed."),
        DOCUMENT,
    ),
    entry(
        "document.archived",
        gettext_noop("Document archived"),
        gettext_noop("Documents"),
        gettext_noop("A document was stored in the file archive and can be fetched."),
        {"document": {"id": "INV-2025-00123"}},
    ),
]
