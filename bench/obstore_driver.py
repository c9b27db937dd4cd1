"""Copy a directory to or from S3 with obstore, the way its docs show: a sync store and a thread pool.

    python bench/obstore_driver.py put DIR s3://BUCKET/PREFIX
    python bench/obstore_driver.py get s3://BUCKET/PREFIX DIR

Endpoint, region and keys come from the environment (``AWS_ENDPOINT_URL``,
``AWS_DEFAULT_REGION``, ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``), which
``S3Store`` reads itself; plain http must be allowed in its client options.

Threads over the synchronous ``put``/``get``, not ``put_async``/``get_async``:
with obstore 0.12.1 the async API aborted at interpreter exit in about half of
the runs here (exit 134). Large files go up as obstore's multipart upload
(its defaults: 5 MB parts, 12 in flight) and come down as one streamed GET.
Nothing is verified on download: obstore checks neither a checksum nor the ETag.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import obstore
from obstore.store import S3Store

THREADS = 8  # zoo's default number of concurrent transfers


def store_for(url: str) -> tuple[S3Store, str]:
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    http = os.environ.get("AWS_ENDPOINT_URL", "").startswith("http://")
    return S3Store(bucket, client_options={"allow_http": http}), prefix.strip("/")


def put(src: Path, url: str) -> int:
    store, prefix = store_for(url)
    files = [Path(d) / n for d, _, names in os.walk(src) for n in names]

    def one(path: Path) -> None:
        obstore.put(store, f"{prefix}/{path.relative_to(src).as_posix()}", path)

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(one, files))
    return len(files)


def get(url: str, dest: Path) -> int:
    store, prefix = store_for(url)
    keys = [meta["path"] for batch in obstore.list(store, prefix + "/", chunk_size=1000) for meta in batch]

    def one(key: str) -> None:
        out = dest / key[len(prefix) + 1:]
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "wb") as fh:
            for chunk in obstore.get(store, key).stream():
                fh.write(chunk)

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(one, keys))
    return len(keys)


def main() -> None:
    op, a, b = sys.argv[1:4]
    n = put(Path(a), b) if op == "put" else get(a, Path(b))
    print(f"{op}: {n} files")


if __name__ == "__main__":
    main()
