"""Publishing the App Home (`views.publish`), for one person or for everyone who opened it.

Kept free of bolt's context so the card publisher and the worker can republish too:
whatever changes a count, a request or an account republishes the homes that show it.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.home import home_view
from bot.blocks.refusals import outsider_home
from bot.blocks.requests import MayDecide
from bot.handlers.roles import Roles
from bot.service.container import Services
from bot.service.context import EXTERNAL, Actor

log = logging.getLogger(__name__)


def decider(services: Services, actor: Actor) -> MayDecide:
    """Whether `actor` is offered Approve or Reject for a request (the service decides)."""
    return services.deps.decider(actor)


async def publish_home(
    services: Services,
    client: AsyncWebClient,
    actor: Actor,
    *,
    account_id: str | None = None,
    remember: bool = True,
) -> None:
    """Draw `actor`'s App Home and publish it (the account they chose, else the default).

    A person of another workspace (Slack Connect) gets a Home that says the app is for
    this workspace's people, and nothing else; they are not remembered as a viewer."""
    if actor.is_external:
        await client.views_publish(user_id=actor.user_id, view=outsider_home(EXTERNAL))
        return
    data = await services.overview.home(actor, account_id=account_id, remember=remember)
    view = home_view(data, decider(services, actor))
    await client.views_publish(user_id=actor.user_id, view=view)


async def republish_homes(
    services: Services, roles: Roles, client: AsyncWebClient, workspace_id: str
) -> None:
    """Redraw the App Home of everyone who opened it lately; a failure is logged, not raised."""
    try:
        viewers = await services.overview.home_viewers(workspace_id)
    except Exception:
        log.exception("cannot read who opened the App Home")
        return
    for viewer in viewers:
        try:
            actor = await roles.actor(viewer.user_id, workspace_id)
            if actor.is_external:
                continue  # their Home already says there is nothing for them here
            await publish_home(services, client, actor, remember=False)
        except SlackApiError as exc:
            log.warning(
                "views.publish for %s failed: %s", viewer.user_id, exc.response.get("error")
            )
        except Exception:
            log.exception("cannot republish the App Home of %s", viewer.user_id)
