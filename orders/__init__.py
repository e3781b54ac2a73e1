"""Orders: the catalog, the pricing engine (`orders.pricing`, pure), delivery and payment rules
(`orders.logistics`), Taiwan e-invoice validation (`orders.invoice`), and the quick order's API."""
