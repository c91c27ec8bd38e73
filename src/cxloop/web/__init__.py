"""HTTP entry point: FastAPI app over the services (thin handlers, errors mapped once)."""
