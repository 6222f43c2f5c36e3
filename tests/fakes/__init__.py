"""Test doubles for the things this machine does not have: DigitalOcean, Vercel and the Pulumi CLI."""
