"""A user's contact record, where mail notifications go (tag ``contacts``)."""

from __future__ import annotations

from flask import Blueprint, Response

from bridge.http.context import USER, ApiError, actor, bridge, json_response, no_content
from bridge.http.validation import body

blueprint = Blueprint("contacts", __name__)


@blueprint.get(f"{USER}/contact")
def get_contact(realm: str, user_id: str) -> Response:
    contact = bridge().service.get_contact(realm, user_id)
    if contact is None:
        raise ApiError(404, "not_found", "no contact record for this user")
    return json_response(contact.to_dict())


@blueprint.put(f"{USER}/contact")
def put_contact(realm: str, user_id: str) -> Response:
    data = body("ContactRequest")
    service = bridge().service
    service.set_contact(
        realm,
        user_id,
        email=data.get("email"),
        phone=data.get("phone"),
        locale=data.get("locale"),
        display_name=data.get("display_name"),
        source="api",
        actor=actor(),
    )
    contact = service.get_contact(realm, user_id)
    assert contact is not None  # just written
    return json_response(contact.to_dict())


@blueprint.patch(f"{USER}/contact")
def patch_contact(realm: str, user_id: str) -> Response:
    data = body("ContactPatch")
    contact = bridge().service.patch_contact(realm, user_id, data, source="api", actor=actor())
    return json_response(contact.to_dict())


@blueprint.delete(f"{USER}/contact")
def delete_contact(realm: str, user_id: str) -> Response:
    bridge().service.delete_contact(realm, user_id, actor=actor())
    return no_content()
