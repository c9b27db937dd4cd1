"""S3 requests zoo signs and sends itself, for a remote whose endpoint, region
and keys are given outright (``sign.Signer.direct``): listing, HEAD, small PUTs
(conditional ones too), DELETE and the multipart calls.

Each is one query-signed URL sent over the shared pool of kept-alive
connections (``remote.http``) and retried as every request is
(``remote.retry``): no s3fs or botocore client is made, which costs a
publish more time than its listing and uploads of a small model take.
Answers are read up to a cap, and the XML ones (listings, multipart replies,
errors) are parsed only when they declare no DTD, so a crafted server cannot
make zoo expand entities or hold an unbounded document in memory.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from zoo_repo.remote.errors import HTTPStatusError, error_reason, status_error
from zoo_repo.remote.http import POOL, Host
from zoo_repo.remote.retry import retrying

if TYPE_CHECKING:
    import ssl

    from zoo_repo.remote.options import Timeouts
    from zoo_repo.remote.s3.sign import Signer

# One page of a listing (1,000 keys of ~300 bytes of XML each) is far below
# this; any other answer (multipart replies, error documents) below the second.
PAGE_LIMIT = 4 << 20
REPLY_LIMIT = 1 << 20
LIST_PAGE = 1000  # keys a listing asks for at a time (S3's most)
MAX_PAGES = 1 << 20  # a listing of a billion keys: past it, the server is looping
_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


class BadReply(ValueError):
    """An answer zoo refuses to read: too large, not XML, a DTD, or not what was asked.
    Not an OSError: asking again would not make the server answer otherwise."""


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes


class Client:
    """Signed requests to one remote's bucket; ``path`` arguments are ``bucket/key``."""

    def __init__(self, signer: Signer, timeouts: Timeouts, tls: ssl.SSLContext | None) -> None:
        self.signer, self.timeouts, self.tls = signer, timeouts, tls

    def send(self, method: str, path: str, params: Mapping[str, str] | None = None,
             body: bytes | memoryview = b"", headers: Mapping[str, str] | None = None, *,
             limit: int = REPLY_LIMIT, ok: Sequence[int] = (), expires: int = 3600) -> Reply:
        """One request (retried when transient); a status outside 2xx and ``ok`` raises
        (``remote.errors``). The answer is read up to ``limit`` bytes."""
        url = self.signer.signed(method, path, params, expires)
        split = urlsplit(url)
        target = f"{split.path}?{split.query}"
        host: Host = (split.scheme, split.hostname or "", split.port)
        sent = {"Content-Length": str(len(body)), **(headers or {})}

        def once() -> Reply:
            with POOL.connection(host, self.timeouts, self.tls) as conn:
                conn.request(method, target, body=body, headers=sent)
                response = conn.getresponse()
                data = response.read(limit + 1)  # for HEAD, nothing: but the connection is then free
                if len(data) > limit:
                    # Raised inside the block: the connection, its answer unread, is closed.
                    raise BadReply(f"{method} {split.path}: the answer is larger than {limit} bytes")
            if 200 <= response.status < 300 or response.status in ok:
                return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
            raise status_error(f"{method} {split.path}", response.status, error_reason(data))

        return retrying(once)

    def put(self, path: str, body: bytes | memoryview, headers: Mapping[str, str] | None = None,
            params: Mapping[str, str] | None = None, expires: int = 3600) -> str:
        """PUT ``body`` whole; returns the ETag."""
        reply = self.send("PUT", path, params, body, headers, expires=expires)
        return reply.headers.get("etag", "").strip('"')

    def size(self, path: str) -> int | None:
        """The object's size by one HEAD, or None when there is none."""
        reply = self.send("HEAD", path, ok=(404,))
        if reply.status == 404:
            return None
        try:
            return int(reply.headers["content-length"])
        except (KeyError, ValueError) as exc:
            raise BadReply(f"HEAD {path}: no size in the answer") from exc

    def delete(self, path: str) -> None:
        self.send("DELETE", path, ok=(404,))

    def listing(self, bucket: str, prefix: str) -> Iterator[tuple[str, int]]:
        """(key, size) of every object under ``prefix``, by ListObjectsV2 pages of 1,000."""
        token: str | None = None
        for _ in range(MAX_PAGES):
            params = {"list-type": "2", "prefix": prefix, "max-keys": str(LIST_PAGE)}
            if token is not None:
                params["continuation-token"] = token
            root = parse_xml(self.send("GET", bucket, params, limit=PAGE_LIMIT).body, "ListBucketResult")
            for item in root.iter(f"{_NS}Contents"):
                key, size = item.findtext(f"{_NS}Key"), item.findtext(f"{_NS}Size")
                if key is None or size is None or not size.isdigit():
                    raise BadReply(f"listing {bucket}/{prefix}: an entry without a key or size")
                yield key, int(size)
            if root.findtext(f"{_NS}IsTruncated") != "true":
                return
            following = root.findtext(f"{_NS}NextContinuationToken")
            if not following or following == token:
                raise BadReply(f"listing {bucket}/{prefix}: a truncated page without a new continuation token")
            token = following
        raise BadReply(f"listing {bucket}/{prefix}: more than {MAX_PAGES} pages")

    # -- multipart uploads --------------------------------------------------
    def create_upload(self, path: str) -> str:
        root = parse_xml(self.send("POST", path, {"uploads": ""}).body, "InitiateMultipartUploadResult")
        upload_id = root.findtext(f"{_NS}UploadId")
        if not upload_id:
            raise BadReply(f"POST {path}?uploads: no UploadId in the answer")
        return upload_id

    def part_urls(self, path: str, upload_id: str, count: int, expires: int) -> list[str]:
        return [self.signer.signed("PUT", path, {"partNumber": str(n), "uploadId": upload_id}, expires)
                for n in range(1, count + 1)]

    def complete_upload(self, path: str, upload_id: str, etags: Sequence[str]) -> None:
        """Join the parts (numbered from 1, in order): the object appears now, whole."""
        parts = "".join(f"<Part><PartNumber>{n}</PartNumber><ETag>&quot;{_xml_text(etag)}&quot;</ETag></Part>"
                        for n, etag in enumerate(etags, 1))
        body = f"<CompleteMultipartUpload>{parts}</CompleteMultipartUpload>".encode()
        reply = self.send("POST", path, {"uploadId": upload_id}, body, {"Content-Type": "application/xml"})
        # S3 may answer 200 and still fail, with an error document as the body.
        root = parse_xml(reply.body, "CompleteMultipartUploadResult", "Error")
        if root.tag.endswith("Error"):
            raise HTTPStatusError(f"POST {path}?uploadId", 500, error_reason(reply.body))

    def abort_upload(self, path: str, upload_id: str) -> None:
        self.send("DELETE", path, {"uploadId": upload_id}, ok=(404,))


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "")


def parse_xml(data: bytes, *tags: str) -> ET.Element:
    """An S3 XML answer whose root element is one of ``tags`` (namespace or none);
    BadReply for a DTD (entities are never expanded), bad XML, or another root."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise BadReply("an S3 answer with a DTD: refused (entities are not expanded)")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise BadReply(f"an S3 answer that is not XML ({exc})") from exc
    if root.tag.removeprefix(_NS) not in tags:
        raise BadReply(f"an S3 answer with root <{root.tag[:80]}>, expected <{tags[0]}>")
    if not root.tag.startswith(_NS):  # an answer without S3's namespace: read it as if it had it
        for element in root.iter():
            element.tag = _NS + element.tag
    return root
