"""Keycloak I/O for the installer: read a realm's state, and the small operations the apply verbs use.

Keycloak pitfalls handled here: an execution PUT must carry the priority Keycloak sent (a missing one
arrives as 0 and reorders the flow), so we always PUT back the dict we got with the fields we mean to
change; and python-keycloak puts aliases into URLs unquoted, so our own aliases contain no ``/``, ``?``
or ``#``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bridge.realm.model import (
    AUTHENTICATOR_ID,
    AUTHENTICATORS,
    EVENT_LISTENER_ID,
    FLOW_ALIAS,
    REQUIRED_ACTIONS,
    RESET_FLOW_ALIAS,
    THEME,
    Execution,
    RealmInstallError,
    RealmState,
    SubFlow,
    find_login_form_flow,
    find_second_factor_flow,
)


def connect(url: str, username: str, password: str, realm: str, admin_realm: str = "master") -> Any:
    """A ``KeycloakAdmin`` that logs in to ``admin_realm`` and works on ``realm``."""
    from keycloak import KeycloakAdmin

    return KeycloakAdmin(
        server_url=url.rstrip("/"),
        username=username,
        password=password,
        realm_name=realm,
        user_realm_name=admin_realm,
    )


class RealmAdmin:
    """Reads one realm through python-keycloak's ``KeycloakAdmin`` (bound to that realm), and the
    small operations the apply verbs are made of."""

    def __init__(self, admin: Any, realm: str) -> None:
        self.admin = admin
        self.realm = realm

    # -- reading

    def read_state(self) -> RealmState:
        from keycloak.exceptions import KeycloakGetError

        try:
            realm = self.admin.get_realm(self.realm)
        except KeycloakGetError as exc:
            if exc.response_code == 404:
                raise RealmInstallError(f"realm '{self.realm}' not found") from None
            raise
        flows = self.admin.get_authentication_flows()
        aliases = frozenset(str(f["alias"]) for f in flows)
        copy = tuple(self.executions(FLOW_ALIAS)) if FLOW_ALIAS in aliases else None
        reset = tuple(self.executions(RESET_FLOW_ALIAS)) if RESET_FLOW_ALIAS in aliases else None
        registered = {
            str(a.get("providerId") or a.get("alias")): a for a in self.admin.get_required_actions()
        }
        unregistered = {
            str(a.get("providerId")) for a in self.get("authentication/unregistered-required-actions")
        }
        server = self.server_info()
        return RealmState(
            realm=realm,
            flow_aliases=aliases,
            copy_executions=copy,
            reset_executions=reset,
            required_actions={k: v for k, v in registered.items() if k in REQUIRED_ACTIONS},
            required_actions_available=frozenset(
                a for a in REQUIRED_ACTIONS if a in registered or a in unregistered
            ),
            authenticators=frozenset(a for a in AUTHENTICATORS if a in server["authenticators"]),
            event_listeners=frozenset(server["event_listeners"] & {EVENT_LISTENER_ID}),
            theme_available=THEME in server["login_themes"],
            step_configs=self.step_configs((*(copy or ()), *(reset or ()))),
        )

    def step_configs(self, rows: Iterable[Execution]) -> tuple[dict[str, Any], ...]:
        ours = [r for r in rows if r.provider_id == AUTHENTICATOR_ID]
        ids = {str(r.raw.get("authenticationConfig") or "") for r in ours}
        return tuple(self.admin.get_authenticator_config(i) for i in sorted(ids - {""}))

    def server_info(self) -> dict[str, set[str]]:
        info = self.admin.connection.raw_get("admin/serverinfo")
        info.raise_for_status()
        body = info.json()
        providers = body.get("providers", {})
        themes = body.get("themes", {}).get("login", [])
        return {
            "authenticators": set(providers.get("authenticator", {}).get("providers", {})),
            "event_listeners": set(providers.get("eventsListener", {}).get("providers", {})),
            "login_themes": {t.get("name") for t in themes},
        }

    def path(self, suffix: str) -> str:
        return f"admin/realms/{self.realm}/{suffix}"

    def get(self, suffix: str) -> Any:
        response = self.admin.connection.raw_get(self.path(suffix))
        raise_for(response, f"GET {suffix}")
        return response.json()

    # -- the helpers the verbs of bridge.realm.apply are made of

    def executions(self, flow_alias: str = FLOW_ALIAS) -> list[Execution]:
        return [Execution(e) for e in self.admin.get_authentication_flow_executions(flow_alias)]

    def subflow(self) -> SubFlow:
        subflow = find_second_factor_flow(self.executions())
        if subflow is None:
            raise RealmInstallError(f"flow '{FLOW_ALIAS}' has no conditional 2FA sub-flow")
        return subflow

    def forms(self) -> SubFlow:
        forms = find_login_form_flow(self.executions())
        if forms is None:
            raise RealmInstallError(
                f"flow '{FLOW_ALIAS}' has no sub-flow holding both the username/password form and the "
                "conditional 2FA sub-flow"
            )
        return forms

    def put_execution(self, flow_alias: str, execution: Execution, **changed: Any) -> None:
        # Round-trip the dict Keycloak sent, priority included, with only the named fields changed.
        if all(execution.raw.get(k) == v for k, v in changed.items()):
            return
        self.admin.update_authentication_flow_executions({**execution.raw, **changed}, flow_alias)

    def add_execution(self, flow_alias: str, provider_id: str) -> None:
        self.admin.create_authentication_flow_execution({"provider": provider_id}, flow_alias)

    def update_realm(self, **fields: Any) -> None:
        self.admin.update_realm(self.realm, fields)

    def attributes(self) -> dict[str, str]:
        return dict(self.admin.get_realm(self.realm).get("attributes") or {})

    def delete_flow(self, alias: str) -> None:
        flow = next(f for f in self.admin.get_authentication_flows() if f["alias"] == alias)
        self.admin.delete_authentication_flow(flow["id"])


def raise_for(response: Any, what: str) -> None:
    if response.status_code >= 400:
        raise RealmInstallError(f"Keycloak refused {what}: HTTP {response.status_code} {response.text[:300]}")
