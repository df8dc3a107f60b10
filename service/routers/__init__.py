"""One router per resource: predict, labels, health, metrics."""
