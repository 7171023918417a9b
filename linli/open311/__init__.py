"""Open311 GeoReport v2 (with the FixMyStreet update extension) over the work orders.

A public, read-mostly face of `linli.workorders`: GETs show only what a city would publish
(never the reporter, never photos); POST requests need a client's api_key and enters the order
through the same intake service as every other channel.
"""
