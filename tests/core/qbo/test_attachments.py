"""Attachment downloads stay on the allowlist: Intuit and S3 over https, or the API origin.

A local server plays the QBO API (`/download/<id>` answers the temporary URL we choose) and
redirects; a second one plays an internal service that must never be reached.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from core.qbo.client import QboClient
from core.qbo.custody import TokenManager
from core.qbo.errors import QboRejected


@dataclass
class Server:
    url: str
    hits: list[str] = field(default_factory=list)


def serve(handler) -> Iterator[Server]:
    state = Server(url="")

    @Request.application
    def app(request: Request) -> Response:
        state.hits.append(request.path)
        return handler(request, state)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    state.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    thread.join(5)


@pytest.fixture
def internal() -> Iterator[Server]:
    """Something on this machine (or the LAN) that a forged URL should never reach."""
    yield from serve(lambda request, state: Response(b"internal secret"))


@pytest.fixture
def api(internal: Server) -> Iterator[Server]:
    """The QBO API stand-in: `/download/<url-name>` answers `links[url-name]`."""
    links: dict[str, str] = {}

    def handle(request: Request, state: Server) -> Response:
        path = request.path
        if "/download/" in path:
            name = path.rsplit("/", 1)[1]
            return Response(links[name].format(api=state.url, internal=internal.url))
        redirects = {
            "/files/hop": "/files/ok",
            "/files/away": "{internal}/secret",
            "/files/loop": "/files/loop",
        }
        if path in redirects:
            target = redirects[path].format(internal=internal.url)
            return Response(status=302, headers={"Location": target})
        return Response(b"%PDF-1.4 ok")

    links.update(
        ok="{api}/files/ok",
        hop="{api}/files/hop",
        away="{api}/files/away",
        loop="{api}/files/loop",
        other_port="{internal}/secret",
        plain_s3="http://intuit-qbo-prod-30.s3.amazonaws.com/1/a.pdf",
        not_s3="https://attacker.execute-api.us-east-1.amazonaws.com/a.pdf",
        ec2="https://ec2-192-0-2-1.compute-1.amazonaws.com/a.pdf",
        plain_intuit="http://files.intuit.com/a.pdf",
        https_other_port="https://intuit-qbo-prod-30.s3.amazonaws.com:8443/a.pdf",
    )
    yield from serve(handle)


@pytest.fixture
def downloads(api: Server, realm_id: str, token_manager: TokenManager) -> QboClient:
    return QboClient(realm_id, token_manager, base_url=api.url)


def test_a_temporary_url_on_the_api_origin_is_fetched(downloads: QboClient) -> None:
    assert downloads.download("ok") == b"%PDF-1.4 ok"


def test_a_redirect_within_the_api_origin_is_followed(downloads: QboClient) -> None:
    assert downloads.download("hop") == b"%PDF-1.4 ok"


def test_a_redirect_off_the_allowlist_is_refused_before_it_is_fetched(
    downloads: QboClient, internal: Server
) -> None:
    with pytest.raises(QboRejected):
        downloads.download("away")
    assert internal.hits == []


def test_a_redirect_loop_is_given_up(downloads: QboClient, api: Server) -> None:
    with pytest.raises(QboRejected):
        downloads.download("loop")
    assert api.hits.count("/files/loop") <= 4


@pytest.mark.parametrize(
    "link",
    ["other_port", "plain_s3", "not_s3", "ec2", "plain_intuit", "https_other_port"],
)
def test_temporary_urls_off_the_allowlist_are_refused_without_a_request(
    downloads: QboClient, internal: Server, link: str
) -> None:
    with pytest.raises(QboRejected):
        downloads.download(link)
    assert internal.hits == []


@pytest.mark.parametrize(
    "url",
    [
        "https://intuit-qbo-prod-30.s3.amazonaws.com/9341452188453921/attachments/a.pdf",
        "https://intuit-qbo-prod-30.s3.us-west-2.amazonaws.com/1/a.pdf",
        "https://intuit-qbo-prod-30.s3-us-west-2.amazonaws.com/1/a.pdf",
        "https://files.intuit.com/a.pdf",
    ],
)
def test_intuit_and_s3_over_https_stay_allowed(url: str) -> None:
    from urllib.parse import urlsplit

    from core.qbo.attachments import AttachmentCalls

    assert AttachmentCalls._is_trusted_elsewhere(urlsplit(url))
