"""HTTP client for the registry API (requests). One attempt per call: retrying and backing
off is the loop's job. Every reply is read with a size cap and a total deadline (a slow
server that dribbles bytes cannot hold the sync thread forever); request bodies are gzipped.
"""

from __future__ import annotations

import gzip
import json
import logging
import time
from typing import Any

import requests

from kiosk import __version__
from kiosk.sync.errors import BadReply, RegistryUnavailable, SyncRejected
from ocop.stations import REFUSAL_REASON_FIELD
from ocop.wire import MAX_MEDIA_BYTES

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
MAX_JSON_REPLY_BYTES = 64 * 1024 * 1024
CONNECT_TIMEOUT_S = 10.0
GZIP_LEVEL = 5


def api_base(url: str) -> str:
    url = url.strip().rstrip("/")
    if url.endswith(API_PREFIX):
        url = url[: -len(API_PREFIX)]
    return url + API_PREFIX


class RegistryClient:
    def __init__(
        self, url: str, token: str, timeout_s: float = 20.0, session: requests.Session | None = None
    ):
        self.base = api_base(url)
        self.token = token
        self.timeout_s = float(timeout_s)
        self.session = session or requests.Session()
        self.session.headers.update(
            {"User-Agent": f"ocop-kiosk/{__version__}", "Accept-Encoding": "gzip"}
        )

    def close(self) -> None:
        self.session.close()

    # --- transport ------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict | None = None,
        body: Any = None,
        max_bytes: int = MAX_JSON_REPLY_BYTES,
        auth: bool = True,
    ) -> tuple[bytes, str]:
        headers = {}
        data = None
        if auth:
            headers["Authorization"] = f"Bearer {self.token}"
        if body is not None:
            raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            data = gzip.compress(raw, GZIP_LEVEL)
            headers.update({"Content-Type": "application/json", "Content-Encoding": "gzip"})
        deadline = time.monotonic() + self.timeout_s
        url = self.base + path
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                data=data,
                headers=headers,
                stream=True,
                timeout=(min(CONNECT_TIMEOUT_S, self.timeout_s), self.timeout_s),
                allow_redirects=False,
            )
        except requests.Timeout as exc:
            raise RegistryUnavailable(f"registry timed out ({method} {path}): {exc}") from None
        except requests.RequestException as exc:
            raise RegistryUnavailable(
                f"registry unreachable ({method} {path}): {_short(exc)}"
            ) from None
        try:
            content = self._read(response, max_bytes, deadline, path)
        finally:
            response.close()
        status = response.status_code
        if 200 <= status < 300:
            return content, response.headers.get("Content-Type", "")
        detail, reason = _problem_detail(content)
        if status >= 500 or status in (408, 429):
            raise RegistryUnavailable(
                f"registry answered {status} to {method} {path}{': ' + detail if detail else ''}"
            )
        if 300 <= status < 400:
            raise BadReply(
                f"unexpected redirect {status} from {path} (wrong registry URL "
                f"or a captive portal?)"
            )
        raise SyncRejected(
            f"registry refused {method} {path} ({status}){': ' + detail if detail else ''}",
            status,
            reason,
        )

    @staticmethod
    def _read(response: requests.Response, max_bytes: int, deadline: float, path: str) -> bytes:
        chunks, size = [], 0
        try:
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    raise BadReply(f"reply to {path} larger than {max_bytes} bytes")
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise RegistryUnavailable(f"reply to {path} too slow (deadline passed)")
        except requests.Timeout:
            raise RegistryUnavailable(f"reply to {path} timed out") from None
        except requests.RequestException as exc:
            raise RegistryUnavailable(f"reply to {path} cut off: {_short(exc)}") from None
        return b"".join(chunks)

    def _json(self, method: str, path: str, **kwargs) -> Any:
        content, _ = self._request(method, path, **kwargs)
        try:
            return json.loads(content)
        except (ValueError, RecursionError) as exc:
            raise BadReply(
                f"reply to {path} is not JSON ({len(content)} bytes): {str(exc)[:80]}"
            ) from None

    # --- API ------------------------------------------------------------------------------

    def health(self) -> dict:
        return self._json("GET", "/health", auth=False)

    def changes(self, since: int, trust_sequence: int, limit: int | None = None) -> dict:
        params = {"since": since, "trust_sequence": trust_sequence}
        if limit:
            params["limit"] = limit
        return self._json("GET", "/catalog/changes", params=params)

    def lots(self, since: int, limit: int | None = None) -> dict:
        """The lots feed (protocol 3); 404 from a registry that predates it."""
        params = {"since": since, **({"limit": limit} if limit else {})}
        return self._json("GET", "/lots/changes", params=params)

    def trust_list(self) -> bytes:
        return self._request("GET", "/trust-list", auth=False)[0]

    def media(self, sha256: str, max_bytes: int = MAX_MEDIA_BYTES) -> tuple[bytes, str]:
        return self._request("GET", f"/media/{sha256}", max_bytes=max_bytes, auth=False)

    def upload(self, items: list[dict]) -> dict:
        return self._json("POST", "/uploads", body={"items": items})

    def stamp_block(self, request_id: str, product_id: int, count: int) -> dict:
        return self._json(
            "POST",
            "/stamp-blocks",
            body={"request_id": request_id, "product_id": product_id, "count": count},
        )


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) <= 160 else text[:157] + "..."


def _problem_detail(content: bytes) -> tuple[str, str]:
    """(title - detail, the machine-readable reason or "") of a problem+json body."""
    try:
        body = json.loads(content)
    except (ValueError, RecursionError):
        return "", ""
    if isinstance(body, dict):
        parts = [str(body.get(k)) for k in ("title", "detail") if body.get(k)]
        reason = body.get(REFUSAL_REASON_FIELD)
        return " - ".join(parts)[:300], reason[:64] if isinstance(reason, str) else ""
    return "", ""
