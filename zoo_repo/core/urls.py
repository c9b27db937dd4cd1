"""Remote URLs that carry secrets. Pure: a URL in, a verdict or a redacted copy out.

A remote's URL is written to ``.dvc/config``, which git tracks and every clone
carries, and it is shown in messages. Credentials in it (``s3://KEY:SECRET@…``,
``https://user:pass@…``, an Azure connection string or SAS token, a signed
query) would be published with the zoo, so such a URL is refused before it is
written anywhere, and the refusal shows it with the secret parts masked.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

from zoo_repo.errors import UsageError

MASK = "***"
# Query parameters and connection-string keys that are credentials, lowercased:
# S3 presigned URLs, Azure SAS tokens and connection strings, OAuth tokens.
_SECRET_KEYS = frozenset({
    "x-amz-signature", "x-amz-credential", "x-amz-security-token", "awsaccesskeyid", "signature",
    "sig", "se", "sv", "accountkey", "sharedaccesssignature", "sastoken", "access_token", "token",
    "password", "secret", "client_secret", "key", "api_key", "apikey",
})
_CONN_PAIR = re.compile(r"(?i)\b(AccountKey|SharedAccessSignature|SharedAccessKey|Password|ClientSecret)=([^;&@/]*)")


def credential_problem(url: str) -> str | None:
    """What in ``url`` is a credential, or None."""
    if "://" not in url:
        return None
    if _CONN_PAIR.search(url):
        return "a connection string with a key or signature"
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket: not a URL any backend would open
        return None
    if "@" in parts.netloc:
        userinfo = parts.netloc.rsplit("@", 1)[0]
        if ":" in userinfo or parts.scheme not in ("http", "https", "ssh", "sftp", "webdav", "webdavs"):
            return "a user name and password (or key and secret) before the '@'"
    for key, _ in parse_qsl(parts.query, keep_blank_values=True):
        if key.lower() in _SECRET_KEYS:
            return f"a {key!r} query parameter (a signature or token)"
    return None


def redact(url: str) -> str:
    """``url`` fit to show: user info, secret query values and connection-string keys masked."""
    url = _CONN_PAIR.sub(lambda m: f"{m.group(1)}={MASK}", url)
    if "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    netloc, sep, tail = rest.partition("/")
    if "@" in netloc:
        netloc = MASK + "@" + netloc.rsplit("@", 1)[1]
    path, qmark, query = tail.partition("?")
    if qmark:
        query = "&".join(f"{k}={MASK}" if "=" in pair else pair
                         for pair in query.split("&") for k in [pair.split("=", 1)[0]])
    return f"{scheme}://{netloc}{sep}{path}{qmark}{query}"


def check_remote_url(url: str) -> None:
    """Refuse a remote URL that carries credentials (see the module's docstring)."""
    problem = credential_problem(url)
    if problem is not None:
        raise UsageError(
            f"remote URL {redact(url)} carries credentials ({problem}); zoo never writes or shows them",
            hint="give the URL without them and let the backend find credentials (environment variables, "
                 "~/.aws/credentials, a profile, a service account), or set them as remote options "
                 "(access_key_id, secret_access_key, password, account_key, sas_token…), "
                 "which zoo keeps in the untracked .dvc/config.local",
        )
