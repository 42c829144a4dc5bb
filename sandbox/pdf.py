"""``GET /<entity>/<id>/pdf``: a small, valid PDF of a sales form or purchase order.

Intuit renders the form with the company's template; the sandbox writes one page of plain
text (the form's kind, number, date, customer or vendor, lines and total), enough for a client
to store, attach or show the file. The layout is ours; only ``application/pdf`` and a
well-formed document are what Intuit's answer shares with it.
"""

from __future__ import annotations

from typing import Any

_TITLES = {
    "Invoice": "INVOICE",
    "Estimate": "ESTIMATE",
    "SalesReceipt": "SALES RECEIPT",
    "CreditMemo": "CREDIT MEMO",
    "RefundReceipt": "REFUND RECEIPT",
    "PurchaseOrder": "PURCHASE ORDER",
}


def _text(value: Any) -> str:
    # PDF literal strings: escape the three special characters; keep Latin-1 only.
    raw = str(value).encode("latin-1", "replace").decode("latin-1")
    return raw.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _lines(entity: str, obj: dict[str, Any]) -> list[str]:
    party = obj.get("CustomerRef") or obj.get("VendorRef") or {}
    out = [
        f"{_TITLES.get(entity, entity.upper())} {obj.get('DocNumber', obj.get('Id', ''))}",
        f"Date: {obj.get('TxnDate', '')}",
        f"For: {party.get('name', party.get('value', '')) if isinstance(party, dict) else ''}",
        "",
    ]
    for line in obj.get("Line", []):
        if line.get("DetailType") == "SubTotalLineDetail":
            continue
        out.append(f"{line.get('Description', line.get('DetailType', ''))}  {line.get('Amount')}")
    out += ["", f"Total: {obj.get('TotalAmt', '')}"]
    return out[:60]


def render(entity: str, obj: dict[str, Any]) -> bytes:
    """One page listing the form; a complete PDF 1.4 file with a correct xref table."""
    body = ["BT /F1 11 Tf 50 780 Td 14 TL"]
    body += [f"({_text(text)}) Tj T*" for text in _lines(entity, obj)]
    body.append("ET")
    stream = "\n".join(body).encode("latin-1")
    return one_page(stream)


def one_page(stream: bytes) -> bytes:
    """A complete PDF 1.4 file of one Letter page drawing `stream` in Helvetica (``/F1``), with
    a correct xref table (the seeded attachments use it too)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)
