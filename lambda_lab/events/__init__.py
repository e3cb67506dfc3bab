"""AWS-faithful event builders, one module per source."""
