"""Web pages, one blueprint per area. Each view parses, calls one service, renders."""
