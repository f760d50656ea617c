#!/usr/bin/env python3
"""Create S3 buckets on the local S3 service (path-style, SigV4), standard library only.

  mkbucket.py BUCKET...     reads AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION

Exits non-zero with the server's answer if a bucket cannot be created (an existing bucket of ours is fine).
"""
import http.client
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "s3"))
from probe import sigv4_headers  # noqa: E402  (the same signer start.sh uses for its readiness check)


def main():
    url = urllib.parse.urlparse(os.environ["AWS_ENDPOINT_URL"])
    host, port = url.hostname, url.port or 80
    key, secret = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    for bucket in sys.argv[1:]:
        hdrs = sigv4_headers(host, port, key, secret, region, method="PUT", path="/" + bucket)
        conn = http.client.HTTPConnection(host, port, timeout=30)
        conn.request("PUT", "/" + bucket, headers=hdrs)
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        if resp.status not in (200, 409) or (resp.status == 409 and b"BucketAlreadyOwnedByYou" not in body):
            sys.exit("mkbucket: PUT /%s -> HTTP %d %s" % (bucket, resp.status, body[:300].decode("utf-8", "replace")))


if __name__ == "__main__":
    main()
