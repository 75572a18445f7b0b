"""Unit lane: small inputs built by each test (real faces included), no pipeline run."""
