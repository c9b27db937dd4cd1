"""Remote URLs are stored in the form DVC reads, secrets apart."""

from __future__ import annotations

from pathlib import Path

from zoo_repo import Zoo


def test_az_urls_are_stored_as_dvc_names_them_and_secrets_stay_local(tmp_path: Path) -> None:
    zoo = Zoo.init(tmp_path / "zoo", remote="az://models/zoo",
                   remote_options={"account_name": "acct", "client_secret": "s3cr3t"})
    tracked = (zoo.root / ".dvc" / "config").read_text()
    assert "url = azure://models/zoo" in tracked and "s3cr3t" not in tracked
    assert "client_secret = s3cr3t" in (zoo.root / ".dvc" / "config.local").read_text()
    assert zoo.remote_config().url == "azure://models/zoo"
