"""A family member's page: notices as banners until read, every senior's coming meals, and
turning on Web Push on this phone."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import JSONBody, URLEncodedBody
from litestar.response import Redirect, Template

from meals.accounts.service import Actor
from meals.notifications import service
from meals.pages.web import ACTING_SENIOR, language_of, render, safe_next, see_other
from meals.web import AppSettings, CurrentActor, DbSession, Now, PathId, RecordId, allow
from meals.words import Role

ENDPOINT_MAX = 1000
KEY_MAX = 200
SERVICE_WORKER = """
self.addEventListener("push", (event) => {
  const message = event.data ? event.data.json() : {};
  event.waitUntil(self.registration.showNotification(message.title || "WarmMeal", {
    body: message.body || "", data: {url: message.url || "/family"}, lang: "zh-CN",
  }));
});
self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(clients.openWindow(event.notification.data.url));
});
"""


class ReadForm(msgspec.Struct):
    back: str = "/family"


class ActForm(msgspec.Struct):
    senior_id: RecordId
    to: str = "/menu"


class PushKeys(msgspec.Struct):
    p256dh: Annotated[str, msgspec.Meta(max_length=KEY_MAX)]
    auth: Annotated[str, msgspec.Meta(max_length=KEY_MAX)]


class PushSubscriptionBody(msgspec.Struct):
    endpoint: Annotated[str, msgspec.Meta(max_length=ENDPOINT_MAX)]
    keys: PushKeys


class FamilyPages(Controller):
    include_in_schema = False

    @get("/family", guards=[allow(Role.FAMILY)], summary="All my seniors' coming meals, notices")
    async def family(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        settings: AppSettings,
    ) -> Template:
        language = language_of(request)
        notices = service.shown_notices(
            language, await service.unread_notices(db_session, actor=actor)
        )
        overview = await service.coming_meals(
            db_session, actor=actor, today=settings.district_today(now)
        )
        return render(
            request,
            "family.html",
            notices=notices,
            overview=overview,
            vapid_key=service.vapid_public_key(settings),
        )

    @post("/family/act", guards=[allow(Role.FAMILY)])
    async def act_for(
        self, request: Request, data: URLEncodedBody[ActForm], actor: CurrentActor
    ) -> Redirect:
        """Book or look for one of my seniors: the menu or bookings, for them."""
        _choose(request, actor, data.senior_id)
        return see_other("/bookings" if data.to == "/bookings" else "/menu")

    @post("/notices/{notice_id:int}/read", guards=[allow(Role.FAMILY)])
    async def read(
        self,
        request: Request,
        notice_id: PathId,
        data: URLEncodedBody[ReadForm],
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
    ) -> Redirect:
        await service.mark_read(db_session, actor=actor, notice_id=notice_id, now=now)
        return see_other(safe_next(data.back))

    @post("/notices/push", guards=[allow(Role.FAMILY)], status_code=201)
    async def subscribe(
        self,
        data: JSONBody[PushSubscriptionBody],
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
    ) -> dict[str, bool]:
        await service.subscribe(
            db_session,
            actor=actor,
            endpoint=data.endpoint,
            p256dh=data.keys.p256dh,
            auth=data.keys.auth,
            now=now,
        )
        return {"subscribed": True}

    @get("/push-worker.js", summary="The service worker that shows pushed notices")
    async def worker(self) -> Response[str]:
        return Response(
            SERVICE_WORKER,
            media_type="text/javascript",
            headers={"Service-Worker-Allowed": "/", "Cache-Control": "no-cache"},
        )


def _choose(request: Request, actor: Actor, senior_id: int) -> None:
    from meals.errors import NotFound

    if senior_id not in actor.senior_ids:
        raise NotFound("There is no senior {senior_id} that you can see.", senior_id=senior_id)
    request.session[ACTING_SENIOR] = senior_id
