"""The client's address as the rate limits count it (django-ratelimit's `RATELIMIT_IP_META_KEY`)."""
import ipaddress


def client_address(request) -> str:
    """REMOTE_ADDR (a proxy in front must set it to the client's address). An IPv4 client of a server listening on
    `::` arrives as `::ffff:1.2.3.4`: counted as 1.2.3.4, not in the IPv6 /64 that every such client shares. No
    address at all (a Unix socket without a proxy setting one) counts as one shared client."""
    raw = request.META.get("REMOTE_ADDR") or "0.0.0.0"
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return "0.0.0.0"
    mapped = getattr(address, "ipv4_mapped", None)
    return str(mapped or address)
