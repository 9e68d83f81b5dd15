"""keycloak-backup-codes bridge: issues, verifies and stores single-use backup codes for Keycloak."""

__version__ = "0.1.0"
