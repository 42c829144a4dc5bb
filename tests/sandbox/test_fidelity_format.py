"""Issue 10, bullet 7: Faults in QBO's shape on every error path; XML unless JSON is asked for.

Every check goes over real HTTP (requests, or a raw socket for what requests cannot send).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import textwrap
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from sandbox import SandboxServer
from sandbox.config import SandboxConfig
from tests.sandbox.conftest import Api
from tests.sandbox.conftest import registered_config

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "qbo" / "samples"
NS = "{http://schema.intuit.com/finance/v3}"
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$")
FAULT_TYPES = {"ValidationFault", "SystemFault", "AuthenticationFault", "AuthorizationFault"}


def _sample(name: str) -> dict[str, Any]:
    return dict(json.loads((SAMPLES / name).read_text()))


def assert_fault(resp: requests.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """A JSON Fault as in samples/fault.*.json: envelope, string code, no HTML anywhere."""
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"].startswith("application/json"), resp.headers
    assert "intuit_tid" in resp.headers
    body = resp.json()
    assert set(body) == set(_sample("fault.validation.json")) == {"Fault", "time"}
    assert TIME.match(body["time"]), body["time"]
    fault = body["Fault"]
    assert set(fault) == {"Error", "type"}
    assert fault["type"] in FAULT_TYPES
    (err,) = fault["Error"]
    assert set(err) <= {"Message", "Detail", "code", "element"}
    assert {"Message", "Detail", "code"} <= set(err)
    assert isinstance(err["code"], str)
    assert err["code"].isdigit()
    if code is not None:
        assert err["code"] == code, err
    return dict(err)


def raw_http(server: SandboxServer, data: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are; return (status, headers, body) of the answer."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(data)
        out = b""
        while chunk := conn.recv(65536):
            out += chunk
    head, _, body = out.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines)}
    return int(status_line.split()[1]), headers, body


def assert_raw_fault(answer: tuple[int, dict[str, str], bytes], status: int) -> dict[str, Any]:
    got, headers, body = answer
    assert got == status, body
    assert headers["content-type"].startswith("application/json")
    assert b"<html" not in body.lower()
    parsed = json.loads(body)
    assert set(parsed) == {"Fault", "time"}
    (err,) = parsed["Fault"]["Error"]
    assert err["code"] == str(status)
    return dict(err)


@pytest.fixture
def xml_on(server: SandboxServer) -> Iterator[None]:
    """The XML option switched on through the control API, and off again afterwards."""
    resp = requests.post(f"{server.url}/_sandbox/format", json={"xml": True}, timeout=5)
    assert resp.json() == {"xml": True}
    yield
    requests.post(f"{server.url}/_sandbox/format", json={"xml": False}, timeout=5)


def _no_accept(api: Api) -> requests.Session:
    session = requests.Session()
    session.headers.update({"Authorization": api.session.headers["Authorization"]})
    # requests sends `Accept: */*` by default: not a request for JSON, as at Intuit.
    return session


def _xml(resp: requests.Response, status: int = 200) -> ET.Element:
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"].startswith("application/xml")
    assert resp.text.startswith('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>')
    root = ET.fromstring(resp.content)  # noqa: S314 - the sandbox's own answer
    assert root.tag == f"{NS}IntuitResponse"
    assert TIME.match(root.attrib["time"])
    return root


def _bill(api: Api) -> dict[str, Any]:
    accounts = api.query("SELECT * FROM Account")["Account"]
    expense = next(
        a["Id"] for a in accounts if a["AccountType"] in ("Expense", "Cost of Goods Sold")
    )
    vendor = api.create("Vendor", {"DisplayName": f"Format Supply {uuid.uuid4().hex[:8]}"})
    return api.create(
        "Bill",
        {
            "VendorRef": {"value": vendor["Id"]},
            "Line": [
                {
                    "Amount": 12.5,
                    "DetailType": "AccountBasedExpenseLineDetail",
                    "AccountBasedExpenseLineDetail": {"AccountRef": {"value": expense}},
                }
            ],
        },
    )


# -- Faults on every error path -----------------------------------------------------------------


@pytest.mark.parametrize("path", ["spaceship/1", "bill/1/extra", "", "companyinfo/42"])
def test_unknown_routes_under_v3_are_404_faults(sandbox_api: Api, path: str) -> None:
    assert_fault(sandbox_api.get(path), 404, "404")
    assert_fault(sandbox_api.post("spaceship", {}), 404, "404")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "bill", {"GET", "POST"}),
        ("PUT", "bill", {"GET", "POST"}),
        ("PATCH", "vendor/1", {"GET", "POST"}),
        ("PUT", "query", {"GET", "POST"}),
        ("DELETE", "cdc", {"GET"}),
        ("GET", "batch", {"POST"}),
        ("GET", "upload", {"POST"}),
        ("POST", "download/1", {"GET"}),
        ("POST", "bill/1", {"GET"}),
    ],
)
def test_unsupported_methods_are_405_faults_with_allow(
    sandbox_api: Api, method: str, path: str, allowed: set[str]
) -> None:
    resp = sandbox_api.session.request(method, f"{sandbox_api.base}/{path}", timeout=10)
    err = assert_fault(resp, 405, "500")
    assert err["Message"] == "Unsupported Operation"
    assert {m.strip() for m in resp.headers["Allow"].split(",")} == allowed


@pytest.mark.parametrize("method", ["OPTIONS", "TRACE", "PROPFIND", "CONNECT"])
def test_methods_no_route_takes_are_405_faults(sandbox_api: Api, method: str) -> None:
    # Refused by the router before the pipeline: OPTIONS no longer gets an empty 200.
    resp = sandbox_api.session.request(method, f"{sandbox_api.base}/bill", timeout=10)
    assert_fault(resp, 405, "500")
    assert "GET" in resp.headers["Allow"]


def test_oversized_url_is_a_414_fault(server: SandboxServer, sandbox_api: Api) -> None:
    # Over the server's 64 KiB request line: refused before the app runs, still a Fault.
    line = f"GET /v3/company/{sandbox_api.realm_id}/query?query={'a' * 70_000} HTTP/1.1"
    err = assert_raw_fault(raw_http(server, f"{line}\r\nHost: x\r\n\r\n".encode()), 414)
    assert err["Message"] == "Request-URI Too Long"
    # Under a configured cap: refused by the app, with the same Fault.
    cfg = server.sandbox.config
    cfg.max_url_bytes = 2048
    try:
        resp = sandbox_api.get("query", {"query": "SELECT * FROM Bill WHERE " + "x" * 3000})
        err = assert_fault(resp, 414, "414")
        assert "2048" in err["Detail"]
        assert sandbox_api.get("query", {"query": "SELECT * FROM Bill"}).status_code == 200
    finally:
        cfg.max_url_bytes = SandboxConfig().max_url_bytes


def test_broken_http_requests_get_faults_not_html_pages(server: SandboxServer) -> None:
    assert_raw_fault(raw_http(server, b"GARBAGE\r\n\r\n"), 400)
    many = b"".join(b"X-H%d: 1\r\n" % i for i in range(150))
    assert_raw_fault(
        raw_http(server, b"GET /v3/company/1/bill/1 HTTP/1.1\r\n" + many + b"\r\n"), 431
    )
    long_header = b"X-Long: " + b"a" * 70_000 + b"\r\n"
    assert_raw_fault(
        raw_http(server, b"GET /v3/company/1/bill/1 HTTP/1.1\r\n" + long_header + b"\r\n"), 431
    )
    assert_raw_fault(raw_http(server, b"GET /v3/company/1/bill/1 HTTP/2.5\r\n\r\n"), 505)


def test_oversized_body_is_a_413_fault(server: SandboxServer, sandbox_api: Api) -> None:
    cfg = server.sandbox.config
    cfg.max_request_bytes = 1024
    try:
        before = sandbox_api.state("Vendor")
        resp = sandbox_api.post("vendor", {"DisplayName": "Big", "Notes": "n" * 4000})
        assert_fault(resp, 413)
        assert sandbox_api.state("Vendor") == before
    finally:
        cfg.max_request_bytes = SandboxConfig().max_request_bytes


@pytest.mark.parametrize("raw", [b"{not json", b"", b'{"DisplayName": ', b"NaN", b"\xff\xfe"])
def test_malformed_json_is_a_400_fault(sandbox_api: Api, raw: bytes) -> None:
    err = assert_fault(sandbox_api.post("vendor", data=raw), 400)
    assert err["code"] in ("2010", "500")  # 500 "Unsupported Operation": not UTF-8 (§1.1)


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/xml",
        "multipart/form-data; boundary=x",
    ],
)
def test_wrong_content_type_is_a_415_fault(sandbox_api: Api, content_type: str) -> None:
    before = sandbox_api.state("Vendor")
    resp = sandbox_api.post(
        "vendor",
        data=json.dumps({"DisplayName": "Typed Wrong"}),
        headers={"Content-Type": content_type},
    )
    err = assert_fault(resp, 415, "415")
    assert err["Message"] == "Unsupported Media Type"
    assert sandbox_api.state("Vendor") == before
    batch = sandbox_api.post(
        "batch", data=json.dumps({"BatchItemRequest": []}), headers={"Content-Type": content_type}
    )
    assert_fault(batch, 415, "415")


def test_json_bodies_with_charset_or_without_content_type_are_read(sandbox_api: Api) -> None:
    body = json.dumps({"DisplayName": "Charset Ok"}).encode()
    with_charset = sandbox_api.post(
        "vendor", data=body, headers={"Content-Type": "application/json; charset=UTF-8"}
    )
    assert with_charset.status_code == 200, with_charset.text
    bare = requests.post(
        f"{sandbox_api.base}/vendor",
        data=json.dumps({"DisplayName": "No Type"}).encode(),
        headers={"Authorization": sandbox_api.session.headers["Authorization"]},
        timeout=10,
    )
    assert bare.status_code == 200, bare.text
    # The query endpoint takes its raw text whatever the type (application/text, §4.1).
    plain = sandbox_api.post(
        "query", data=b"SELECT * FROM Vendor", headers={"Content-Type": "text/plain"}
    )
    assert plain.status_code == 200


# -- XML unless JSON is asked for ---------------------------------------------------------------


def test_default_is_xml_unless_json_is_asked_for(sandbox_api: Api) -> None:
    # Issue 20: strict by default, as Intuit (API.md §1.1).
    resp = _no_accept(sandbox_api).get(f"{sandbox_api.base}/companyinfo/{sandbox_api.realm_id}")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/xml")
    assert _xml(resp).find(f"{NS}CompanyInfo") is not None
    assert sandbox_api.read().headers["Content-Type"].startswith("application/json")
    assert requests.get(f"{sandbox_api.server.url}/_sandbox/format", timeout=5).json() == {
        "xml": True
    }


def test_xml_option_answers_an_entity_as_intuit_response(sandbox_api: Api, xml_on: None) -> None:
    bill = _bill(sandbox_api)  # Accept: application/json -> still JSON
    resp = _no_accept(sandbox_api).get(f"{sandbox_api.base}/bill/{bill['Id']}")
    root = _xml(resp)
    (el,) = list(root)
    assert el.tag == f"{NS}Bill"
    assert el.attrib == {"domain": "QBO", "sparse": "false"}
    assert el.findtext(f"{NS}Id") == bill["Id"]
    assert el.findtext(f"{NS}SyncToken") == "0"
    assert el.findtext(f"{NS}TotalAmt") == "12.5"
    assert el.findtext(f"{NS}MetaData/{NS}CreateTime") == bill["MetaData"]["CreateTime"]
    vendor_ref = el.find(f"{NS}VendorRef")
    assert vendor_ref is not None
    assert vendor_ref.text == bill["VendorRef"]["value"]
    assert vendor_ref.attrib == {"name": bill["VendorRef"]["name"]}
    lines = el.findall(f"{NS}Line")
    assert [ln.findtext(f"{NS}Amount") for ln in lines] == ["12.5"]
    account_ref = lines[0].find(f"{NS}AccountBasedExpenseLineDetail/{NS}AccountRef")
    assert account_ref is not None
    assert account_ref.text


@pytest.mark.parametrize(
    ("accept", "xml"),
    [
        (None, True),
        ("*/*", True),
        ("application/xml", True),
        ("application/*", True),
        ("application/json;q=0", True),
        ("application/json", False),
        ("text/html, application/json;q=0.5", False),
        ("application/pdf, application/json", False),
        ("APPLICATION/JSON; charset=utf-8", False),
    ],
)
def test_xml_option_follows_the_accept_header(
    sandbox_api: Api, xml_on: None, accept: str | None, xml: bool
) -> None:
    session = _no_accept(sandbox_api)
    if accept is None:
        session.headers.pop("Accept", None)
    else:
        session.headers["Accept"] = accept
    resp = session.get(f"{sandbox_api.base}/preferences")
    assert resp.status_code == 200
    if xml:
        assert _xml(resp).find(f"{NS}Preferences") is not None
    else:
        assert resp.headers["Content-Type"].startswith("application/json")
        assert "Preferences" in resp.json()


def test_xml_option_answers_faults_as_xml(sandbox_api: Api, xml_on: None) -> None:
    session = _no_accept(sandbox_api)
    root = _xml(session.get(f"{sandbox_api.base}/bill/987654"), 400)
    fault = root.find(f"{NS}Fault")
    assert fault is not None
    assert fault.attrib == {"type": "ValidationFault"}
    (error,) = fault.findall(f"{NS}Error")
    assert error.attrib == {"code": "610", "element": ""}
    assert error.findtext(f"{NS}Message") == "Object Not Found"
    assert error.findtext(f"{NS}Detail")
    # Error paths outside the pipeline too: router 404/405, the app's 414, 415.
    assert _xml(session.get(f"{sandbox_api.base}/spaceship"), 404).find(f"{NS}Fault") is not None
    assert _xml(session.delete(f"{sandbox_api.base}/bill"), 405).find(f"{NS}Fault") is not None
    assert _xml(session.options(f"{sandbox_api.base}/bill"), 405).find(f"{NS}Fault") is not None
    wrong = session.post(f"{sandbox_api.base}/vendor", data="{}", headers={"Content-Type": "a/b"})
    assert _xml(wrong, 415).find(f"{NS}Fault") is not None
    # Without a token: the 401 in XML as well.
    unauth = requests.get(f"{sandbox_api.base}/preferences", timeout=10)
    auth_error = _xml(unauth, 401).find(f"{NS}Fault/{NS}Error")
    assert auth_error is not None
    assert auth_error.attrib["code"] == "3200"


def test_xml_option_answers_query_batch_and_cdc(sandbox_api: Api, xml_on: None) -> None:
    _bill(sandbox_api)
    session = _no_accept(sandbox_api)
    query = _xml(session.get(f"{sandbox_api.base}/query", params={"query": "SELECT * FROM Bill"}))
    qr = query.find(f"{NS}QueryResponse")
    assert qr is not None
    bills = len(sandbox_api.query("SELECT * FROM Bill")["Bill"])
    assert qr.attrib == {"startPosition": "1", "maxResults": str(bills)}
    assert [b.tag for b in qr] == [f"{NS}Bill"] * bills
    count = _xml(
        session.get(f"{sandbox_api.base}/query", params={"query": "SELECT COUNT(*) FROM Bill"})
    )
    counted = count.find(f"{NS}QueryResponse")
    assert counted is not None
    assert counted.attrib == {"totalCount": str(bills)}
    batch = session.post(
        f"{sandbox_api.base}/batch",
        json={
            "BatchItemRequest": [
                {"bId": "b1", "Query": "SELECT * FROM Vendor"},
                {"bId": "b2", "operation": "create", "Vendor": {"Foo": 1}},
            ]
        },
    )
    items = _xml(batch).findall(f"{NS}BatchItemResponse")
    assert [i.attrib["bId"] for i in items] == ["b1", "b2"]
    assert items[0].find(f"{NS}QueryResponse/{NS}Vendor") is not None
    assert items[1].find(f"{NS}Fault/{NS}Error") is not None
    since = sandbox_api.server.sandbox.clock.now().isoformat()
    cdc = session.get(f"{sandbox_api.base}/cdc", params={"entities": "Bill", "changedSince": since})
    assert _xml(cdc).find(f"{NS}CDCResponse/{NS}QueryResponse") is not None


def test_xml_option_sends_the_429_body_as_xml_even_to_json_clients(
    server: SandboxServer, sandbox_api: Api, xml_on: None
) -> None:
    server.sandbox.throttle.configure(per_minute=1, reset=True)
    assert sandbox_api.read().status_code == 200
    resp = sandbox_api.read()  # Accept: application/json
    assert resp.status_code == 429
    assert resp.headers["Content-Type"].startswith("application/xml")
    # The gateway's own layout (API.md §3.3): indented, time before xmlns, no element attribute.
    assert re.match(
        r'<\?xml version="1.0" encoding="UTF-8" standalone="yes"\?>\n'
        r'<IntuitResponse time="[^"]+" xmlns="http://schema.intuit.com/finance/v3">\n'
        r'    <Fault type="SERVICE">\n        <Error code="3001">\n',
        resp.text,
    ), resp.text
    root = _xml(resp, 429)
    sample = _sample("throttle.429.body.json")["Fault"]
    error = root.find(f"{NS}Fault/{NS}Error")
    assert error is not None
    assert root.find(f"{NS}Fault").attrib == {"type": sample["type"]}  # type: ignore[union-attr]
    assert error.attrib == {"code": sample["Error"][0]["code"]}
    assert error.findtext(f"{NS}Message") == sample["Error"][0]["Message"]
    assert error.findtext(f"{NS}Detail") == sample["Error"][0]["Detail"]


def test_json_default_sends_the_429_body_as_the_sample(
    server: SandboxServer, sandbox_api: Api
) -> None:
    server.sandbox.throttle.configure(per_minute=1, reset=True)
    assert sandbox_api.read().status_code == 200
    resp = sandbox_api.read()
    assert resp.status_code == 429
    body = resp.json()
    sample = _sample("throttle.429.body.json")
    assert set(body) == set(sample)
    assert body["Fault"] == sample["Fault"]


def test_format_control_validates_and_reset_restores_the_config(server: SandboxServer) -> None:
    url = f"{server.url}/_sandbox/format"
    assert requests.post(url, json={"xml": "yes"}, timeout=5).status_code == 400
    assert requests.post(url, json={"xml": True, "x": 1}, timeout=5).status_code == 400
    assert requests.post(url, json={"xml": False}, timeout=5).json() == {"xml": False}
    assert requests.get(url, timeout=5).json() == {"xml": False}
    server.sandbox.reset()
    try:
        assert requests.get(url, timeout=5).json() == {"xml": True}
    finally:
        from sandbox import seed

        server.realm_id = seed.seed_empty(server.sandbox).id


def test_lenient_json_is_an_explicit_switch() -> None:
    with SandboxServer(registered_config(lenient_json=True), seed="empty") as srv:
        api = Api.connect(srv)
        resp = _no_accept(api).get(f"{api.base}/preferences")
        assert resp.headers["Content-Type"].startswith("application/json")
        assert "Preferences" in resp.json()


# -- real clients with the XML option on --------------------------------------------------------

_XML_ON_PLUGIN = """
import json, os
import sandbox.server as server_module

_started = []
_init = server_module.SandboxServer.__init__

def _init_xml(self, *args, **kwargs):
    _init(self, *args, **kwargs)
    self.sandbox.xml_responses = True
    _started.append(self.sandbox)

server_module.SandboxServer.__init__ = _init_xml

def pytest_sessionfinish(session, exitstatus):
    with open(os.environ["XML_ON_REPORT"], "w") as out:
        json.dump([
            {"xml": sb.xml_responses, "counters": sb.counters_snapshot()} for sb in _started
        ], out)
"""


def test_real_clients_pass_with_the_xml_option_on(tmp_path: Path) -> None:
    pytest.importorskip("intuitlib.client")
    pytest.importorskip("quickbooks")
    (tmp_path / "xml_on_plugin.py").write_text(textwrap.dedent(_XML_ON_PLUGIN))
    report = tmp_path / "report.json"
    repo = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(repo), os.environ.get("PYTHONPATH", "")]),
        "XML_ON_REPORT": str(report),
    }
    proc = subprocess.run(  # noqa: S603 - this interpreter running pytest on one test file
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "xml_on_plugin",
            "tests/sandbox/test_third_party_clients.py",
        ],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert " passed" in proc.stdout, proc.stdout[-2000:]
    assert "skipped" not in proc.stdout, proc.stdout[-2000:]
    servers = json.loads(report.read_text())
    assert servers
    assert all(s["xml"] for s in servers)
    # intuit-oauth and python-quickbooks send Accept: application/json on every call, so
    # none of their (many) requests was answered in XML.
    assert sum(s["counters"].get("requests", 0) for s in servers) > 10
    assert all(s["counters"].get("format:xml", 0) == 0 for s in servers)
