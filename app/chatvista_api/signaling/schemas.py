"""The payloads clients send, validated before anything else happens."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationError

from chatvista_api.signaling.limits import MAX_CHAT_CHARS, MAX_REACTION_CHARS, MAX_SENT_AT_MS
from chatvista_api.text import check_free_text, check_label, nfc

PeerId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class _Event(BaseModel):
    # Unknown keys are ignored: clients may carry extra context such as ``meetingId``.
    model_config = ConfigDict(extra="ignore", frozen=True)


class JoinRoom(_Event):
    meetingId: uuid.UUID


class Signal(_Event):
    to: PeerId
    type: Literal["offer", "answer", "ice-candidate"]
    # An SDP object, an ICE candidate, or null for end-of-candidates; its size is capped separately.
    payload: Any = None
    # The sender's clock when it sent this, in milliseconds: any clock that runs steadily for the
    # connection's life (mesh.js sends performance.now()). Only differences between a connection's
    # messages count, so it needs no agreement with the server's. A JSON number, never a string or bool.
    sentAt: Annotated[float | None, Field(strict=True, allow_inf_nan=False, ge=0, le=MAX_SENT_AT_MS)] = None


class ChatMessage(_Event):
    # Free text, as a meeting's description (chatvista_api.text): lines and emoji, no controls, nothing that
    # reorders what follows it.
    content: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_CHAT_CHARS),
        BeforeValidator(nfc),
        AfterValidator(check_free_text),
    ]


class RaiseHand(_Event):
    raised: bool = True


class Reaction(_Event):
    # Shown to the whole room as it is: a label (chatvista_api.text), something visible and nothing hidden.
    emoji: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_REACTION_CHARS, pattern=r"^\S+$"),
        BeforeValidator(nfc),
        AfterValidator(check_label),
    ]


class MuteParticipant(_Event):
    peerId: PeerId
    kind: Literal["audio", "video"] = "audio"


class RemoveParticipant(_Event):
    peerId: PeerId


class RefreshToken(_Event):
    token: Annotated[str, StringConstraints(min_length=1, max_length=4096)]


class Empty(_Event):
    pass


def describe(exc: ValidationError) -> str:
    """One line naming each bad field and why, e.g. ``content: String should have at most 2000 characters``."""
    parts = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err["loc"]) or "payload"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def parse(model: type[_Event], data: Any) -> _Event:
    return model.model_validate(data if data is not None else {})
