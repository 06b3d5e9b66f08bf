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


def documented_schema(example, *, required: dict | None = None) -> dict:
    """A JSON Schema describing ``example``'s shape: each field's type, nothing more demanded.

    Documents the payload for integrators (``payload_schema``, shown in the API) and refuses a
    field of the wrong type at ingest, while still taking payloads that leave fields out or add
    their own: senders written before the schema existed keep working. ``required`` names the
    fields that must be there, by path (``{"": ["order"], "order": ["id"]}``). Ids may be strings
    or integers (shops number them either way); a ``None`` in the example may be anything.
    """
    return _describe(example, required or {}, path="", key="")


def _describe(value, required: dict, *, path: str, key: str) -> dict:
    if isinstance(value, dict):
        schema = {
            "type": "object",
            "properties": {
                name: _describe(item, required, path=f"{path}.{name}".lstrip("."), key=name)
                for name, item in value.items()
            },
        }
        if required.get(path):
            schema["required"] = list(required[path])
        return schema
    if isinstance(value, list):
        return {"type": "array", "items": _describe(value[0], required, path=path, key=key) if value else {}}
    if value is None:
        return {}
    if key == "id" or key.endswith("Id"):
        return {"type": ["string", "integer"]}
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, (int, float)):
        return {"type": "number"}
    return {"type": "string"}


ORDER_SCHEMA = documented_schema({"order": ORDER}, required={"": ["order"], "order": ["id"]})
TRANSACTION_SCHEMA = documented_schema(
    {"transaction": {**TRANSACTION, "declineReason": "insufficient_funds"}},
    required={"": ["transaction"], "transaction": ["id"]},
)


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
