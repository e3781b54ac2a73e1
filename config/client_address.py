"""The client's address: as the rate limits count it (django-ratelimit's `RATELIMIT_IP_META_KEY`) and as an order's
confirmation records it."""
import ipaddress


def known_client_address(request) -> str | None:
    """REMOTE_ADDR (a proxy in front must set it to the client's address), normalised, or None when there is none.
    An IPv4 client of a server listening on `::` arrives as `::ffff:1.2.3.4`: that is 1.2.3.4, not an address in
    the IPv6 /64 that every such client shares."""
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR") or "")
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return str(mapped or address)


def client_address(request) -> str:
    """The address a rate limit counts: no address at all (a Unix socket without a proxy setting one) counts as
    one shared client."""
    return known_client_address(request) or "0.0.0.0"
