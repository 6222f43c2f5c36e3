"""The frame budget of a WebSocket session, metered at the ASGI ``receive`` that Engine.IO reads from."""

from __future__ import annotations

import logging

from starlette.types import Message, Receive

from chatvista_api.signaling.limits import MESSAGE_BURST, MESSAGES_PER_SECOND, TokenBucket

logger = logging.getLogger("chatvista_api.signaling")


def metered(receive: Receive) -> Receive:
    """``receive`` for one WebSocket session, which ends it once the client sends frames (of any kind:
    events, acks, Engine.IO pings and upgrade probes) faster than the bucket allows."""
    budget = TokenBucket(capacity=MESSAGE_BURST, rate=MESSAGES_PER_SECOND)

    async def receive_within_budget() -> Message:
        message = await receive()
        if message["type"] == "websocket.receive" and not budget.take():
            logger.warning("signaling: closed a connection that sent more than %d frames a second", MESSAGES_PER_SECOND)
            # engineio ends the session as if the client had gone: its writer then closes the WebSocket.
            return {"type": "websocket.disconnect", "code": 1008}
        return message

    return receive_within_budget
