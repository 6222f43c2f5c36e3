"""Business rules over the database, shared by the HTTP routes and realtime signaling."""
