"""Socket.IO: the only place that emits. See ``events`` for names and ``hub`` for wiring."""
