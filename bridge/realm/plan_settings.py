"""Planning the realm's settings around the flows: required actions registered and enabled, our event
listener, the remembered-device days, brute-force detection, the login languages, and dropping step
config an earlier version wrote that nothing reads now.

Part of the pure planner (bridge/realm/plan.py): reads a :class:`RealmState`, returns :class:`Change`
values, never talks to Keycloak.
"""

from __future__ import annotations

from bridge.realm.model import (
    ATTR_REMEMBER_DEVICE_DAYS,
    EVENT_LISTENER_ID,
    LANGUAGE_TAGS,
    STALE_CONFIG_KEYS,
    Change,
    InstallOptions,
    RealmState,
)


def plan_required_action(state: RealmState, provider_id: str, name: str) -> list[Change]:
    action = state.required_actions.get(provider_id)
    params = {"provider_id": provider_id}
    if action is None:
        return [
            Change(
                "register_required_action",
                f"register required action '{provider_id}'",
                {**params, "name": name},
            )
        ]
    if not action.get("enabled"):
        return [Change("enable_required_action", f"enable required action '{provider_id}'", params)]
    return []


def plan_realm_settings(state: RealmState, options: InstallOptions) -> list[Change]:
    changes = []
    listeners = state.realm_event_listeners
    if EVENT_LISTENER_ID not in listeners:
        changes.append(
            Change(
                "add_event_listener",
                f"add event listener '{EVENT_LISTENER_ID}' (keeps {', '.join(listeners) or 'none'}; "
                "contact changes and password resets reach the bridge)",
            )
        )
    days = str(options.remember_device_days)
    if state.attributes.get(ATTR_REMEMBER_DEVICE_DAYS) != days:
        changes.append(
            Change(
                "set_remember_devices",
                f"set {ATTR_REMEMBER_DEVICE_DAYS}={days} ({describe_days(int(days))})",
                {"days": days},
            )
        )
    if options.enable_brute_force and not state.realm.get("bruteForceProtected"):
        changes.append(Change("enable_brute_force", "enable brute-force detection for the realm"))
    changes += plan_languages(state)
    return changes


def plan_languages(state: RealmState) -> list[Change]:
    """Internationalization on, with every language our pages, mails and sheet speak.

    Keycloak only offers a user the realm's supported locales, and the provider sends the one it
    resolves to the bridge for the mails and the sheet. Locales the realm had are kept, its default too.
    """
    supported = [str(tag) for tag in state.realm.get("supportedLocales") or []]
    missing = [tag for tag in LANGUAGE_TAGS if tag not in supported]
    if state.realm.get("internationalizationEnabled") and not missing:
        return []
    default = str(state.realm.get("defaultLocale") or "en")
    return [
        Change(
            "enable_languages",
            f"enable internationalization with the {len(LANGUAGE_TAGS)} languages of the login theme "
            f"(adds {len(missing)}, keeps {len(supported)}; default '{default}')",
            {"locales": sorted({*supported, *LANGUAGE_TAGS}), "default": default},
        )
    ]


def describe_days(days: int) -> str:
    if days <= 0:
        return "always ask for the second factor"
    return (
        f"a device that passed the second factor is not asked again for {days} day{'s' if days != 1 else ''}"
    )


def plan_stale_configs(state: RealmState) -> list[Change]:
    """Migration: earlier versions gave our step a config (``low_threshold``) that nothing reads now.

    The "few codes left" notice follows the bridge's policy (its ``low`` answer), so a threshold left
    in Keycloak would only mislead an admin who edits it there. Keys we never wrote are kept.
    """
    changes = []
    for config in state.step_configs:
        stale = sorted(k for k in config.get("config") or {} if k in STALE_CONFIG_KEYS)
        if stale:
            changes.append(
                Change(
                    "drop_stale_config",
                    f"remove {', '.join(stale)} from step config '{config.get('alias', config['id'])}' "
                    "(the bridge's policy decides when codes are low)",
                    {"config_id": str(config["id"])},
                )
            )
    return changes
