"""Routing: the model catalog seen through a tenant policy, prompt token counts, and circuit breakers."""
