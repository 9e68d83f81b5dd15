"""Translations for what the bridge writes itself (mails, the code sheet): the gettext catalogs."""
