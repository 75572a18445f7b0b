"""Pipeline lane: real DVC commands on a small real subset, an S3 server on loopback, headless Chromium."""
