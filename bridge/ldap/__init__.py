"""The directory side: LDAP profiles and connection, and the sync that keeps locks and contacts in step."""
