"""Read models built from the event store, applied exactly once, and their runner."""
