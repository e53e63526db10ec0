"""Drives Strata's B2 server with Backblaze's own Python SDK (Debian's python3-b2sdk).

Usage: python3 b2sdk_client.py <server-url> <key-id> <key> <bucket> <workdir>
Prints one JSON object with what the SDK saw; lib/b2server/b2sdk.test.ts checks it against the
server's own answers.
"""
import hashlib
import io
import json
import os
import sys

from b2sdk.v2 import B2Api, InMemoryAccountInfo

url, key_id, key, bucket_name, workdir = sys.argv[1:6]
api = B2Api(InMemoryAccountInfo())
api.authorize_account(url, key_id, key)
bucket = api.get_bucket_by_name(bucket_name)
out = {}


def version_json(v):
    return {
        "id": v.id_,
        "file_name": v.file_name,
        "size": v.size,
        "action": v.action,
        "content_sha1": v.content_sha1,
        "file_info": v.file_info,
        "file_retention_mode": v.file_retention.mode.value if v.file_retention else None,
        "legal_hold": v.legal_hold.value if v.legal_hold else None,
        "encryption_mode": v.server_side_encryption.mode.value,
    }


# 1. a small upload with file info
small = b"strata b2sdk small object\n"
v = bucket.upload_bytes(small, "sdk/small.txt", file_infos={"origin": "b2sdk"})
out["small"] = version_json(v)
out["small_sha1"] = hashlib.sha1(small).hexdigest()

# 2. a large file of at least three parts (5 MB minimum part size)
big_path = os.path.join(workdir, "big.bin")
with open(big_path, "wb") as f:
    block = hashlib.sha256(b"strata").digest() * 32768  # 1 MiB of non-repeating-per-offset bytes
    for i in range(16):
        f.write(bytes((b + i) % 256 for b in block[:65536]) * 16)
big_size = os.path.getsize(big_path)
with open(big_path, "rb") as f:
    out["big_sha1"] = hashlib.sha1(f.read()).hexdigest()
v = bucket.upload_local_file(big_path, "sdk/big.bin", min_part_size=5_000_000)
out["big"] = version_json(v)
out["big_size"] = big_size

# 2b. the same bytes as a large file driven part by part: b2_list_parts sees all three parts
with open(big_path, "rb") as f:
    data = f.read()
parts = [data[0:6_000_000], data[6_000_000:12_000_000], data[12_000_000:]]
started = api.services.large_file.start_large_file(bucket.id_, "sdk/big-parts.bin", "application/octet-stream", {})
for number, part in enumerate(parts, start=1):
    api.session.upload_part(started.file_id, number, len(part), hashlib.sha1(part).hexdigest(), io.BytesIO(part))
out["listed_parts"] = [[p.part_number, p.content_length] for p in bucket.list_parts(started.file_id)]
out["unfinished"] = [u.file_name for u in bucket.list_unfinished_large_files()]
finished = api.session.finish_large_file(started.file_id, [hashlib.sha1(p).hexdigest() for p in parts])
out["big_parts_size"] = finished["contentLength"]
out["big_parts_download_sha1"] = None
dl = bucket.download_file_by_name("sdk/big-parts.bin")
got = os.path.join(workdir, "big-parts.bin")
dl.save_to(got)
with open(got, "rb") as f:
    out["big_parts_download_sha1"] = hashlib.sha1(f.read()).hexdigest()

# 3. range read of the large file, across a part boundary
start, end = 4_999_990, 5_000_019
dl = bucket.download_file_by_name("sdk/big.bin", range_=(start, end))
got = os.path.join(workdir, "range.bin")
dl.save_to(got)
with open(got, "rb") as f, open(big_path, "rb") as g:
    g.seek(start)
    out["range_ok"] = f.read() == g.read(end - start + 1)

# 4. a second version, then a hide marker: versions and latest-only listings
bucket.upload_bytes(b"second version\n", "sdk/small.txt")
hidden = bucket.hide_file("sdk/small.txt")
out["hide_action"] = hidden.action
out["versions"] = [version_json(fv) for fv, _ in bucket.ls("sdk", latest_only=False, recursive=True)]
out["latest"] = [fv.file_name for fv, _ in bucket.ls("sdk", latest_only=True, recursive=True)]

# 5. delete every version of every name
for fv, _ in bucket.ls("sdk", latest_only=False, recursive=True):
    bucket.delete_file_version(fv.id_, fv.file_name)
out["after_delete"] = [fv.file_name for fv, _ in bucket.ls("sdk", latest_only=False, recursive=True)]

print(json.dumps(out))
