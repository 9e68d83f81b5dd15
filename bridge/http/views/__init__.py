"""The ``/v1`` views, one module and one blueprint per resource of ``openapi.json`` (its tags).

Each view parses the request (:mod:`bridge.http.validation`), calls the service and shapes the answer;
nothing else. :mod:`bridge.http.api` nests these blueprints in the ``/v1`` one, which authenticates.
"""

from __future__ import annotations

from flask import Blueprint

from bridge.http.views import audit, codes, contacts, devices, policy, sheets, users

RESOURCES: tuple[Blueprint, ...] = (
    codes.blueprint,
    users.blueprint,
    contacts.blueprint,
    devices.blueprint,
    policy.blueprint,
    audit.blueprint,
    sheets.blueprint,
)
