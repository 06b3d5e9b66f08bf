"""Example payloads and payload schemas shared by the catalogue's entries, and the entry builder."""

STANDARD = "standard"
ON_DEMAND = "on_demand"

CUSTOMER = {
    "id": "K1234",
    "firstName": "Holger",
    "lastName": "Tester",
    "email": "mail@example.net",
    "locale": "de_DE",
    "billingAddress": {"addressLine1": "Teststraße 1", "zipCode": "12345", "cityName": "Testhausen", "country": "DE"},
}
ORDER = {
    "id": "A-1001",
    "number": "1001",
    "total": "49.90",
    "currency": "EUR",
    "funnel": None,
    "customer": {"id": "K1234", "email": "mail@example.net"},
    "items": [{"sku": "EBOOK-1", "name": "E-book", "quantity": 1, "price": "49.90"}],
}
TRANSACTION = {"id": "T-5001", "orderId": "A-1001", "amount": "49.90", "currency": "EUR", "gateway": "card"}
INVOICE = {
    "id": "INV-2026-00123",
    "number": "2026-00123",
    "customerId": "K1234",
    "total": "119.00",
    "currency": "EUR",
    "status": "open",
}
CONTRACT = {"id": "C-77", "customerId": "K1234", "plan": "pro-monthly", "status": "active", "startDate": "2026-11-01"}
ADDRESS = {
    "id": "AD-9",
    "customerId": "K1234",
    "addressLine1": "Teststraße 1",
    "zipCode": "12345",
    "cityName": "Testhausen",
    "country": "DE",
}
ITEM = {"id": "ITEM-3", "name": "Pro plan", "price": "19.00", "currency": "EUR"}
PAYMENT = {"id": "P-42", "invoiceId": "INV-2026-00123", "amount": "119.00", "currency": "EUR"}
PROFORMA = {"id": "PF-12", "customerId": "K1234", "total": "59.00", "currency": "EUR"}
DOCUMENT = {
    "documentId": "INV-2025-00123",
    "externalStatus": "APPROVED",
    "currentStatus": "OK",
    "flowDetail": "VERIFACTU",
}

ORDER_SCHEMA = {
    "type": "object",
    "required": ["order"],
    "properties": {
        "order": {"type": "object", "required": ["id"], "properties": {"id": {"type": ["string", "integer"]}}}
    },
}
TRANSACTION_SCHEMA = {
    "type": "object",
    "required": ["transaction"],
    "properties": {"transaction": {"type": "object", "required": ["id"]}},
}


def entry(
    key,
    name,
    category,
    description,
    payload,
    *,
    availability=STANDARD,
    manual_retry=False,
    postback_only=False,
    critical=False,
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
        "critical": critical,
        "example_payload": payload,
        "payload_schema": schema,
    }
