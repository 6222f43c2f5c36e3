"""Who App Platform's alerts e-mail: set through its alert-destinations API by a resource whose read-back is
what it declares, so that an unchanged stack redeploys nothing.

Why the App spec does not carry them (terraform-provider-digitalocean, the provider pulumi-digitalocean bundles):

- ``digitalocean/app/app_spec.go`` ``expandAppAlerts`` sends an alert as rule, disabled, operator, value and
  window; ``digitalocean/app/resource_app.go`` ``syncAppAlertDestinations`` then assigns ``destinations``
  (``POST /v2/apps/{app_id}/alerts/{alert_id}/destinations``) after a create, or after an update of the spec.
- The read never gives them back: ``flattenAppAlerts`` writes rule, disabled, operator, value and window only
  (the spec returned has no destinations, and ``resourceDigitalOceanAppRead`` never lists the alerts). So the
  state never holds the destinations the program declares, every diff adds them again, and every ``pulumi up``
  updates the App: a new deployment with its PRE_DEPLOY migration (terraform-provider-digitalocean#1606).
- The provider has no other way: ``provider.go`` registers no alert-destination resource, and
  ``digitalocean_monitor_alert`` (``monitoring/resource_monitor_alert.go``) has no App Platform alert types.

So the spec declares alerts without destinations (``flattenAppAlerts`` then returns exactly what is declared),
and :class:`AlertDestinations` calls the two endpoints the provider itself uses, and reads back what it set:
``GET /v2/apps/{app_id}/alerts`` lists every alert of the App with its ``component_name``, ``spec.rule`` and
``emails`` (DigitalOcean's OpenAPI, ``apps_list_alerts``, model ``app_alert``), and
``POST /v2/apps/{app_id}/alerts/{alert_id}/destinations`` (``apps_assign_alertDestinations``) sets them. Its
state holds the e-mails that list returned for each declared alert, and :meth:`AlertDestinationsProvider.diff`
compares them with the declared ones: after ``pulumi up --refresh`` an address changed by hand is put back.

Alerts are matched on ``component_name`` and rule (the provider matches on the rule alone, which cannot tell
the API's CPU alert from another component's). Whether App Platform keeps an alert's id and destinations when it
applies a new spec is not in any source, so the e-mails are assigned again after every update of the App
(its ``updated_at``, which the App's read sets after each create or update and leaves alone otherwise) and
only then. Slack webhooks are not declared, so an assignment sets none.
"""

from __future__ import annotations

import os
import time
from typing import Any

import pulumi
import pulumi.dynamic

# terraform-provider-digitalocean's own token variables (provider.go: DIGITALOCEAN_TOKEN, then
# DIGITALOCEAN_ACCESS_TOKEN), after the stack's `digitalocean:token` config; the API URL override is the one
# the ops commands honour (infra/cloud/digitalocean.py), for tests against the fake API.
TOKEN_CONFIG = "digitalocean:token"
TOKEN_ENVS = ("DIGITALOCEAN_TOKEN", "DIGITALOCEAN_ACCESS_TOKEN")
URL_ENV = "CHATVISTA_DO_API_URL"
DEFAULT_API_URL = "https://api.digitalocean.com"
# App Platform configures an App's alerts after its deployment; the App's create/update has waited for that
# deployment (resource_app.go WaitForAppDeployment), so the alerts are normally listed at once.
LIST_ATTEMPTS = 6
LIST_INTERVAL_SECONDS = 10.0
TIMEOUT_SECONDS = 30.0
# The inputs whose change means assigning again (``__provider`` is the SDK's own, the serialized provider).
INPUTS = ("appId", "appUpdatedAt", "alerts", "emails")


def declared_alerts(spec: dict[str, Any]) -> list[dict[str, str]]:
    """The (component, rule) of every alert in a DigitalOcean-shaped App spec; "" is the App itself."""
    found = [{"component": "", "rule": a["rule"]} for a in spec.get("alerts", [])]
    for kind in ("services", "workers", "jobs"):
        for component in spec.get(kind, []):
            found += [{"component": component["name"], "rule": a["rule"]} for a in component.get("alerts", [])]
    return found


def normalised_emails(emails: list[str]) -> list[str]:
    """Sorted, each once: the API's order is not the program's to keep, and the state compares as a list."""
    return sorted(set(emails))


def expected(props: dict[str, Any]) -> list[dict[str, Any]]:
    """What the read-back must hold when every declared alert has the declared e-mails."""
    return [{**alert, "emails": list(props["emails"])} for alert in props["alerts"]]


def changes(olds: dict[str, Any], news: dict[str, Any]) -> list[str]:
    """What differs: a declared input, or the read-back (``assigned``, from the last assignment or a refresh)
    against what is declared now. An unknown input (a preview before the App's update) differs too."""
    changed = [key for key in INPUTS if olds.get(key) != news.get(key)]
    if olds.get("assigned") != expected(news):
        changed.append("assigned")
    return changed


class AlertDestinationsProvider(pulumi.dynamic.ResourceProvider):
    """The CRUD of :class:`AlertDestinations` against DigitalOcean's API. The token is never logged or stored."""

    def __init__(self) -> None:
        super().__init__()
        self._token: str | None = None

    def configure(self, req: pulumi.dynamic.ConfigureRequest) -> None:
        value = req.config.get(TOKEN_CONFIG)
        self._token = value if isinstance(value, str) and value else None

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        return pulumi.dynamic.CreateResult(id_=props["appId"], outs=self._assign(props))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        return pulumi.dynamic.UpdateResult(outs=self._assign(news))

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        with self._client() as http:
            assigned = _read_back(_list_alerts(http, props["appId"]), props["alerts"])
        return pulumi.dynamic.ReadResult(id_=id_, outs={**_inputs(props), "assigned": assigned})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        changed = changes(olds, news)
        replaces = ["appId"] if "appId" in changed else []
        return pulumi.dynamic.DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=False)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        """Take the e-mails off again; an App already deleted has no alerts left to clear."""
        with self._client() as http:
            try:
                listed = _list_alerts(http, props["appId"])
            except _NotFound:
                return
            for alert in props["alerts"]:
                found = _find(listed, alert)
                if found is not None:
                    _post_destinations(http, props["appId"], found["id"], [])

    def _assign(self, props: dict[str, Any]) -> dict[str, Any]:
        app_id, wanted = props["appId"], list(props["emails"])
        with self._client() as http:
            listed = _wait_for_alerts(http, app_id, props["alerts"])
            for alert in props["alerts"]:
                found = _find(listed, alert)
                if found is not None and normalised_emails(found.get("emails") or []) != wanted:
                    _post_destinations(http, app_id, found["id"], wanted)
            assigned = _read_back(_list_alerts(http, app_id), props["alerts"])
        if assigned != expected(props):
            raise RuntimeError(
                f"App Platform did not keep the alert e-mails of app {app_id}: it lists {assigned}; "
                "an address must belong to a member of the team that owns the App"
            )
        return {**_inputs(props), "assigned": assigned}

    def _client(self) -> Any:
        import httpx

        token = self._token or next((os.environ[n] for n in TOKEN_ENVS if os.environ.get(n)), None)
        if not token:
            raise RuntimeError(
                f"no DigitalOcean token to set the App's alert e-mails: set {TOKEN_ENVS[0]} "
                f"(or the stack config {TOKEN_CONFIG})"
            )
        return httpx.Client(
            base_url=os.environ.get(URL_ENV) or DEFAULT_API_URL,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=TIMEOUT_SECONDS,
        )


class _NotFound(RuntimeError):
    pass


def _inputs(props: dict[str, Any]) -> dict[str, Any]:
    return {key: props[key] for key in INPUTS if key in props}


def _checked(response: Any, call: str) -> Any:
    """The decoded body, or an error naming the call and DigitalOcean's message (never the request's headers)."""
    if response.status_code == 404:
        raise _NotFound(f"DigitalOcean found nothing at {call} (404): was the App deleted?")
    if response.status_code >= 400:
        try:
            message = response.json().get("message", "")
        except ValueError:
            message = response.text[:200]
        raise RuntimeError(f"DigitalOcean answered {response.status_code} to {call}: {message}")
    return response.json() if response.content else {}


def _list_alerts(http: Any, app_id: str) -> list[dict[str, Any]]:
    call = f"GET /v2/apps/{app_id}/alerts"
    return _checked(http.get(f"/v2/apps/{app_id}/alerts"), call).get("alerts") or []


def _post_destinations(http: Any, app_id: str, alert_id: str, emails: list[str]) -> None:
    path = f"/v2/apps/{app_id}/alerts/{alert_id}/destinations"
    _checked(http.post(path, json={"emails": emails, "slack_webhooks": []}), f"POST {path}")


def _find(listed: list[dict[str, Any]], alert: dict[str, str]) -> dict[str, Any] | None:
    return next(
        (
            a
            for a in listed
            if (a.get("component_name") or "") == alert["component"]
            and (a.get("spec") or {}).get("rule") == alert["rule"]
        ),
        None,
    )


def _wait_for_alerts(http: Any, app_id: str, alerts: list[dict[str, str]]) -> list[dict[str, Any]]:
    for attempt in range(LIST_ATTEMPTS):
        listed = _list_alerts(http, app_id)
        missing = [a for a in alerts if _find(listed, a) is None]
        if not missing:
            return listed
        if attempt + 1 < LIST_ATTEMPTS:
            time.sleep(LIST_INTERVAL_SECONDS)
    names = ", ".join(f"{a['component'] or 'app'}/{a['rule']}" for a in missing)
    raise RuntimeError(
        f"App Platform lists no alert {names} "
        f"for app {app_id} after {LIST_ATTEMPTS} tries; run `pulumi up` again once its deployment is live"
    )


def _read_back(listed: list[dict[str, Any]], alerts: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Per declared alert, the e-mails App Platform lists for it (None: it lists no such alert)."""
    out = []
    for alert in alerts:
        found = _find(listed, alert)
        out.append({**alert, "emails": None if found is None else normalised_emails(found.get("emails") or [])})
    return out


class AlertDestinations(pulumi.dynamic.Resource, module="digitalocean", name="AppAlertDestinations"):
    """The declared e-mails on every declared alert of the App ``app``."""

    def __init__(
        self,
        name: str,
        app: Any,
        alerts: list[dict[str, str]],
        emails: list[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "appId": app.id,
            "appUpdatedAt": app.updated_at,
            "alerts": alerts,
            "emails": normalised_emails(emails),
            "assigned": None,
        }
        super().__init__(AlertDestinationsProvider(), name, props, opts)
