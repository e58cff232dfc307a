# Verifies a Voucher Edge webhook (Python 3.8+, standard library only). Pass the raw request body bytes.
import hashlib
import hmac
import re
import time


def verify_voucher_signature(secret: str, raw_body: bytes, header: str, tolerance_seconds: int = 300) -> bool:
    t, signatures = None, []
    for item in (header or "").split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and re.fullmatch(r"\d{1,12}", value):
            t = int(value)
        if key == "v1" and re.fullmatch(r"[0-9a-f]{64}", value):
            signatures.append(value)
    if t is None or not signatures:
        return False
    if abs(time.time() - t) > tolerance_seconds:  # too old (or from the future): a replay
        return False
    expected = hmac.new(secret.encode(), f"{t}.".encode() + raw_body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, s) for s in signatures)
