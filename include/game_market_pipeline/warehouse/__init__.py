"""The warehouse's own tables and the small services built on them: migrations (`migrate`), the
API call counter (`call_counter`) and the endpoint-and-date leases (`leases`)."""
