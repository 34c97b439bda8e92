"""Models: the contract every model implements (`contract`) and the building blocks SUMMER and the rivals
share (`layers`)."""
