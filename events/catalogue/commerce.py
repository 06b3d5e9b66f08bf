"""Customers, addresses, orders, items, contracts and documents (seeds 000-002)."""

from events.catalogue.examples import ADDRESS, CONTRACT, CUSTOMER, DOCUMENT, ITEM, ON_DEMAND, ORDER, entry

COMMERCE = [
    # --- Customers (seeds 000, 001) -------------------------------------------------
    entry(
        "customer.updated",
        "Customer updated",
        "Customers",
        "An existing customer was changed.",
        {"customer": CUSTOMER},
    ),
    entry(
        "customer.deleted", "Customer deleted", "Customers", "A customer was deleted.", {"customer": {"id": "K1234"}}
    ),
    entry(
        "customer.change_requested",
        "Customer change requested",
        "Customers",
        "A change of customer data was requested in the customer center.",
        {"changeCustomer": {"customerId": "K1234", "email": "new@example.net"}},
    ),
    # --- Addresses (seed 000) -------------------------------------------------------
    entry(
        "address.created",
        "Address created",
        "Addresses",
        "A new address record was created for a customer.",
        {"address": ADDRESS},
        availability=ON_DEMAND,
    ),
    entry(
        "address.updated",
        "Address updated",
        "Addresses",
        "An address record of a customer was changed.",
        {"address": ADDRESS},
        availability=ON_DEMAND,
    ),
    # --- Orders (seeds 000, 001) ----------------------------------------------------
    entry(
        "order.created",
        "Order created",
        "Orders",
        "A new order was created.",
        {"order": ORDER},
        availability=ON_DEMAND,
    ),
    entry(
        "order.updated",
        "Order updated",
        "Orders",
        "An existing order was changed.",
        {"order": ORDER},
        availability=ON_DEMAND,
    ),
    entry(
        "order.canceled",
        "Order canceled",
        "Orders",
        "An existing order was canceled.",
        # Seed 000's order.cancelled carries the order; seed 001's ORDER_CANCELLED an orderCustomer.
        {"order": ORDER, "orderCustomer": {"orderId": "A-1001"}},
        availability=ON_DEMAND,
    ),
    entry(
        "order.received",
        "Order received",
        "Orders",
        "An order was received.",
        {"orderCustomer": {"orderId": "A-1001", "customer": CUSTOMER}},
    ),
    entry(
        "order.processed",
        "Order processed",
        "Orders",
        "An order was processed and its customer created.",
        {"orderCustomer": {"orderId": "A-1001"}, "customer": CUSTOMER},
    ),
    entry(
        "order.psp_event",
        "Order payment event",
        "Orders",
        "Payment activity on an order, from the payment service provider.",
        {"orderCustomer": {"orderId": "A-1001"}, "psp": {"event": "authorized"}},
    ),
    # --- Items (seed 001) -----------------------------------------------------------
    entry("item.created", "Item created", "Items", "An item (article) was created.", {"item": ITEM}),
    entry("item.updated", "Item updated", "Items", "An item (article) was changed.", {"item": ITEM}),
    entry("item.deleted", "Item deleted", "Items", "An item (article) was deleted.", {"item": {"id": "ITEM-3"}}),
    # --- Contracts (seeds 000, 001) -------------------------------------------------
    entry(
        "contract.created",
        "Contract created",
        "Contracts",
        "A new contract (subscription) was created.",
        {"contract": CONTRACT},
    ),
    entry("contract.activated", "Contract activated", "Contracts", "A contract was activated.", {"contract": CONTRACT}),
    entry(
        "contract.updated",
        "Contract updated",
        "Contracts",
        "An existing contract was changed.",
        {"contract": CONTRACT},
    ),
    entry(
        "contract.terminated",
        "Contract terminated",
        "Contracts",
        "A contract was terminated in the regular manner.",
        {"contract": CONTRACT},
    ),
    entry(
        "contract.canceled",
        "Contract canceled",
        "Contracts",
        "A contract was terminated extraordinarily.",
        {"contract": CONTRACT},
    ),
    entry(
        "contract.ended",
        "Contract ended",
        "Contracts",
        "A contract reached its termination date.",
        {"contract": CONTRACT},
    ),
    entry(
        "contract.renewed",
        "Contract renewed",
        "Contracts",
        "A contract was extended by the term of its plan.",
        {"contract": CONTRACT},
        availability=ON_DEMAND,
    ),
    # --- Documents (seeds 000, 002) -------------------------------------------------
    entry(
        "document.status_changed",
        "Document status changed",
        "Documents",
        "The internal processing status of a document changed.",
        DOCUMENT,
    ),
    entry(
        "document.archived",
        "Document archived",
        "Documents",
        "A document was stored in the file archive and can be fetched.",
        {"document": {"id": "INV-2025-00123"}},
    ),
]
