"""/upload (hand-built multipart) and /download (temporary URL without a token)."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote
from urllib.parse import urlsplit

import pytest
import requests
from werkzeug.http import parse_options_header

from costbridge_testing.shared import samples_dir
from tests.sandbox.conftest import Api
from tests.sandbox.conftest import bill_body

SAMPLES = samples_dir()
PDF = b"%PDF-1.4 sandbox test file\n\x00\xff binary tail"


def _multipart(
    parts: list[tuple[str, dict[str, str], bytes]], boundary: str = "XyZ", eol: bytes = b"\r\n"
) -> bytes:
    out = b""
    for name, headers, data in parts:
        out += b"--" + boundary.encode() + eol
        disposition = f'form-data; name="{name}"'
        if "filename" in headers:
            disposition += f'; filename="{headers.pop("filename")}"'
        out += f"Content-Disposition: {disposition}".encode() + eol
        for key, value in headers.items():
            out += f"{key}: {value}".encode() + eol
        out += eol + data + eol
    return out + b"--" + boundary.encode() + b"--" + eol


def _meta(bill_id: str, name: str = "INV-88412.pdf") -> bytes:
    meta = json.loads((SAMPLES / "attachable.upload.metadata-part.json").read_text())
    meta["AttachableRef"][0]["EntityRef"]["value"] = bill_id
    meta["FileName"] = name
    return json.dumps(meta).encode()


def _upload(api: Api, body: bytes, boundary: str = "XyZ") -> requests.Response:
    return api.post(
        "upload", data=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )


def test_upload_pairs_by_suffix_and_download_serves_bytes(api: Api, book: dict[str, str]) -> None:
    bill = api.create("Bill", bill_body(book))
    body = _multipart(
        [
            ("file_metadata_01", {"Content-Type": "application/json"}, _meta(bill["Id"])),
            ("file_content_01", {"filename": "scan.pdf", "Content-Type": "application/pdf"}, PDF),
        ]
    )
    resp = _upload(api, body)
    assert resp.status_code == 200, resp.text
    att = resp.json()["AttachableResponse"][0]["Attachable"]
    assert att["FileName"] == "INV-88412.pdf"
    assert att["Size"] == len(PDF)
    assert att["FileAccessUri"] == f"/v3/company/{api.realm_id}/download/{att['Id']}"
    assert att["AttachableRef"][0]["EntityRef"]["value"] == bill["Id"]
    url = api.get(f"download/{att['Id']}")
    assert url.status_code == 200
    assert url.headers["Content-Type"].startswith("text/plain")
    fetched = requests.get(url.text, timeout=10)  # no Authorization header
    assert fetched.status_code == 200
    assert fetched.content == PDF
    linked = api.query("SELECT * FROM Attachable WHERE Id = '%s'" % att["Id"])  # noqa: S608, UP031
    assert linked["Attachable"][0]["Note"] == "Vendor invoice scan"


def test_upload_with_bare_lf_and_base64_part_without_filename(
    api: Api, book: dict[str, str]
) -> None:
    bill = api.create("Bill", bill_body(book))
    body = _multipart(
        [
            ("file_metadata_abc", {"Content-Type": "application/json"}, _meta(bill["Id"], "r.pdf")),
            (
                "file_content_abc",
                {"Content-Type": "application/pdf", "Content-Transfer-Encoding": "base64"},
                base64.encodebytes(PDF),
            ),
        ],
        eol=b"\n",
    )
    resp = _upload(api, body)
    att = resp.json()["AttachableResponse"][0]["Attachable"]
    assert att["FileName"] == "r.pdf"
    url = api.get(f"download/{att['Id']}").text
    assert requests.get(url, timeout=10).content == PDF


def test_temp_download_url_expires(api: Api, book: dict[str, str], sandbox_server) -> None:
    bill = api.create("Bill", bill_body(book))
    body = _multipart(
        [
            ("file_metadata_0", {"Content-Type": "application/json"}, _meta(bill["Id"])),
            ("file_content_0", {"filename": "a.pdf", "Content-Type": "application/pdf"}, PDF),
        ]
    )
    att = _upload(api, body).json()["AttachableResponse"][0]["Attachable"]
    url = api.get(f"download/{att['Id']}").text
    sandbox_server.sandbox.clock.advance(901)
    try:
        assert requests.get(url, timeout=10).status_code == 403
    finally:
        sandbox_server.sandbox.clock.reset()


def test_disallowed_type_is_a_fault_in_its_slot(api: Api, book: dict[str, str]) -> None:
    bill = api.create("Bill", bill_body(book))
    body = _multipart(
        [
            ("file_metadata_0", {"Content-Type": "application/json"}, _meta(bill["Id"], "x.exe")),
            (
                "file_content_0",
                {"filename": "x.exe", "Content-Type": "application/x-msdownload"},
                b"MZ",
            ),
            ("file_metadata_1", {"Content-Type": "application/json"}, _meta(bill["Id"], "ok.pdf")),
            ("file_content_1", {"filename": "ok.pdf", "Content-Type": "application/pdf"}, PDF),
        ]
    )
    out = _upload(api, body).json()["AttachableResponse"]
    assert out[0]["Fault"]["Error"][0]["code"] == "6000"
    assert out[1]["Attachable"]["FileName"] == "ok.pdf"
    assert len(api.state("Attachable")["files"]) == 1


def test_upload_over_the_cap_is_6030(
    api: Api, sandbox_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox_server.sandbox.config, "max_upload_bytes", 1000)
    body = _multipart(
        [
            (
                "file_content_0",
                {"filename": "big.pdf", "Content-Type": "application/pdf"},
                b"x" * 2000,
            )
        ]
    )
    resp = _upload(api, body)
    assert resp.status_code == 400
    assert resp.json()["Fault"]["Error"][0]["code"] == "6030"
    assert api.state("Attachable")["entities"]["Attachable"] == []


def _uploaded(api: Api, bill_id: str) -> dict[str, Any]:
    body = _multipart(
        [
            ("file_metadata_0", {"Content-Type": "application/json"}, _meta(bill_id)),
            ("file_content_0", {"filename": "a.pdf", "Content-Type": "application/pdf"}, PDF),
        ]
    )
    result: dict[str, Any] = _upload(api, body).json()["AttachableResponse"][0]["Attachable"]
    return result


def test_attachables_are_queried_by_their_linked_entity(api: Api, book: dict[str, str]) -> None:
    bill = api.create("Bill", bill_body(book))
    other = api.create("Bill", bill_body(book))
    att = _uploaded(api, bill["Id"])
    _uploaded(api, other["Id"])
    found = api.query(
        "SELECT * FROM Attachable WHERE AttachableRef.EntityRef.type = 'Bill' "  # noqa: S608
        f"AND AttachableRef.EntityRef.value = '{bill['Id']}'"
    )
    assert [a["Id"] for a in found["Attachable"]] == [att["Id"]]
    none = api.query("SELECT * FROM Attachable WHERE AttachableRef.EntityRef.type = 'Invoice'")
    assert none == {}


def test_temp_links_are_minted_per_answer_and_never_stored(api: Api, book: dict[str, str]) -> None:
    att = _uploaded(api, api.create("Bill", bill_body(book))["Id"])
    assert requests.get(att["TempDownloadUri"], timeout=10).content == PDF
    [row] = api.query("SELECT * FROM Attachable")["Attachable"]
    assert requests.get(row["TempDownloadUri"], timeout=10).content == PDF
    [stored] = api.state("Attachable")["entities"]["Attachable"]
    assert "TempDownloadUri" not in stored
    assert stored["FileAccessUri"] == att["FileAccessUri"]


def test_forged_or_altered_temp_link_is_403(api: Api, book: dict[str, str]) -> None:
    att = _uploaded(api, api.create("Bill", bill_body(book))["Id"])
    url = att["TempDownloadUri"]
    base, key, name = url.rsplit("/", 2)
    attachable_id, expires, mac = key.split(".")
    forged = [
        f"{base}/{attachable_id}.{int(expires) + 3600}.{mac}/{name}",  # later expiry
        f"{base}/{attachable_id}.{expires}.{'0' * len(mac)}/{name}",  # guessed signature
        f"{base}/not-a-key/{name}",
    ]
    for link in forged:
        assert requests.get(link, timeout=10).status_code == 403, link
    assert requests.get(url, timeout=10).status_code == 200


@pytest.mark.parametrize("name", ['Café "O\'Brien"\r\n.pdf', 'a"b.pdf', "sub/dir?x=1#y.pdf"])
def test_temp_link_and_download_header_carry_any_file_name(
    api: Api, book: dict[str, str], name: str
) -> None:
    bill = api.create("Bill", bill_body(book))
    body = _multipart(
        [
            ("file_metadata_01", {"Content-Type": "application/json"}, _meta(bill["Id"], name)),
            ("file_content_01", {"filename": "scan.pdf", "Content-Type": "application/pdf"}, PDF),
        ]
    )
    resp = _upload(api, body)
    assert resp.status_code == 200, resp.text
    att = resp.json()["AttachableResponse"][0]["Attachable"]
    assert att["FileName"] == name
    url = att["TempDownloadUri"]
    assert urlsplit(url).path.rsplit("/", 1)[1] == quote(name, safe="")
    fetched = requests.get(url, timeout=10)
    assert fetched.status_code == 200
    assert fetched.content == PDF
    header = fetched.headers["Content-Disposition"]
    assert "\r" not in header
    assert "\n" not in header
    kind, options = parse_options_header(header)
    assert kind == "attachment"
    assert options["filename"] == name  # werkzeug prefers the RFC 5987 filename*
    fallback = header.split("filename*=")[0]
    assert fallback.count('"') in (0, 2)  # a quoted fallback never holds a quote of its own
