"""A user's remembered devices (tag ``devices``).

The token in these bodies and answers is the device cookie: it goes into no log line and no error.
"""

from __future__ import annotations

from flask import Blueprint, Response
from werkzeug.routing import BaseConverter

from bridge.errors import DeviceRecognitionDisabled
from bridge.http.context import USER, ApiError, actor, bridge, json_response, no_content
from bridge.http.validation import body
from bridge.service import BackupCodes
from bridge.service.devices import DISABLED_MESSAGE

blueprint = Blueprint("devices", __name__)


class DeviceIdConverter(BaseConverter):
    """Only a device id matches ``…/devices/<device_id>``, so ``devices/check`` is not also a DELETE route."""

    regex = "[0-9a-f]{32}"


blueprint.record_once(lambda state: state.app.url_map.converters.setdefault("device_id", DeviceIdConverter))


def _devices_enabled() -> BackupCodes:
    if not bridge().settings.device_cookie_key:
        raise DeviceRecognitionDisabled(DISABLED_MESSAGE)
    return bridge().service


@blueprint.post(f"{USER}/devices")
def register_device(realm: str, user_id: str) -> Response:
    data = body("DeviceRegisterRequest", required=False)
    registered = _devices_enabled().register_device(
        realm, user_id, client_ip=data.get("client_ip"), user_agent=data.get("user_agent")
    )
    return json_response(registered.to_dict(), 201)


@blueprint.post(f"{USER}/devices/check")
def check_device(realm: str, user_id: str) -> Response:
    data = body("DeviceCheckRequest")
    checked = _devices_enabled().check_device(
        realm, user_id, data["token"], client_ip=data.get("client_ip"), user_agent=data.get("user_agent")
    )
    return json_response(checked.to_dict())


@blueprint.get(f"{USER}/devices")
def list_devices(realm: str, user_id: str) -> Response:
    found = _devices_enabled().list_devices(realm, user_id)
    return json_response({"devices": [device.to_dict() for device in found]})


@blueprint.post(f"{USER}/devices/forget")
def forget_devices(realm: str, user_id: str) -> Response:
    data = body("DeviceForgetRequest", required=False)
    forgotten = _devices_enabled().forget_devices(
        realm, user_id, actor=actor(data.get("actor")), reason=data.get("reason", "")
    )
    return json_response({"forgotten": forgotten})


@blueprint.delete(f"{USER}/devices/<device_id:device_id>")
def forget_device(realm: str, user_id: str, device_id: str) -> Response:
    if not _devices_enabled().forget_device(realm, user_id, device_id, actor=actor()):
        raise ApiError(404, "not_found", "no such device for this user")
    return no_content()
