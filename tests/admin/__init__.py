"""Administration: people, positions, routes, appointments, office settings and office days."""
