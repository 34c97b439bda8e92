"""Models: the contract every model implements (`modeling`) and the building blocks SUMMER and the rivals
share (`layers`)."""
