"""REST views of the audiences app (thin: they call audiences.services)."""
