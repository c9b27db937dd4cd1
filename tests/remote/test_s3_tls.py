"""HTTPS endpoints with a private CA: zoo's own requests honour ssl_verify and AWS_CA_BUNDLE."""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509

from zoo_repo.remote.s3 import get as fastget


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "zoo test CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "ca.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def https_file(tmp_path: Path) -> Iterator[tuple[str, Path, bytes]]:
    cert, key = _self_signed(tmp_path)
    served = tmp_path / "www"
    served.mkdir()
    body = b"model bytes " * 1000
    (served / "object").write_bytes(body)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            super().__init__(*args, directory=str(served), **kwargs)

        def log_message(self, *args):  # type: ignore[no-untyped-def]
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/object", cert, body
    finally:
        server.shutdown()
        server.server_close()


def test_private_ca_by_option_by_environment_or_not_checked(https_file: tuple[str, Path, bytes],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    url, ca, body = https_file
    monkeypatch.delenv("AWS_CA_BUNDLE", raising=False)
    with pytest.raises(ssl.SSLCertVerificationError):
        fastget.fetch(url, tls=fastget.tls_context())  # the system's CAs do not know it
    assert fastget.fetch(url, tls=fastget.tls_context(str(ca))) == body  # ssl_verify = /path/ca.pem
    assert fastget.fetch(url, 0, 5, tls=fastget.tls_context(False)) == body[:5]  # ssl_verify = false
    monkeypatch.setenv("AWS_CA_BUNDLE", str(ca))
    assert fastget.fetch(url, tls=fastget.tls_context()) == body
