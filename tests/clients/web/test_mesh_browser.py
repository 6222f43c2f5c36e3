"""The browser mesh client (clients/web/mesh.js) in headless Chromium pages with a fake camera and
microphone, against two real API instances on PostgreSQL and Redis, and a real coturn configured as
the Droplet is; all media on loopback, inside a network namespace (conftest.py, harness/).

Pages 0 and 2 of a call reach instance a, page 1 instance b, so every call crosses Redis."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import signal
import time
import uuid

import jwt

from chatvista_api.security import create_access_token
from chatvista_api.settings import Settings
from harness.coturn import RELAY_ADDRESS
from harness.deployment import User
from harness.mesh_lab import POLL_SECONDS, MeshDeployment, Participant, full_mesh
from harness.waiting import wait_until

LOOPBACK = "127.0.0.1"
WAIT = 30.0


def until(check, what: str, describe=None, timeout: float = WAIT):
    """Wait for ``check`` on the pages, saying what was awaited and what ``describe()`` saw last."""
    return wait_until(check, what, timeout, describe=describe, interval=POLL_SECONDS)


def state_of(pages: list[Participant]):
    return lambda: [page.state() for page in pages]


def test_three_peers_on_two_instances_connect_a_full_mesh_with_video_on_every_link(mesh: MeshDeployment) -> None:
    meeting, users = mesh.meeting("Hana", "Gus", "Ines")
    pages = mesh.call(meeting, users)

    links = full_mesh(pages)

    for page, own, user in zip(pages, links, users, strict=True):
        assert {link["userId"] for link in own} == {u.id for u in users} - {user.id}
        for link in own:
            # Host candidates on loopback at both ends: nothing left the machine, and nothing was relayed.
            assert link["local"] == {"type": "host", "address": LOOPBACK}, link
            assert link["remote"] == {"type": "host", "address": LOOPBACK}, link
        state = page.state()
        assert state["status"] == "joined" and state["self"]["userId"] == user.id
        assert all(sorted(peer["tracks"]) == ["audio", "video"] for peer in state["peers"]), state


def test_muting_and_screen_sharing_change_what_others_receive_without_any_signaling(mesh: MeshDeployment) -> None:
    meeting, users = mesh.meeting("Mia", "Noa")
    host, guest = mesh.call(meeting, users)
    full_mesh([host, guest])
    host_id = users[0].id
    lit = until(lambda: guest.lab("(lab, id) => lab.brightness(id)", host_id), "the host's video on the guest's page")
    assert lit > 20, "the fake camera draws a bright pattern"
    signals = host.lab("lab => lab.signals.sent")

    host.lab("lab => lab.call.setAudioEnabled(false)")
    host.lab("lab => lab.call.setVideoEnabled(false)")
    state = host.state()
    assert (state["audioEnabled"], state["videoEnabled"]) == (False, False)
    assert host.lab("lab => lab.call.getSnapshot().peers.length") == 1
    until(
        lambda: guest.lab("(lab, id) => lab.brightness(id)", host_id) < 5,
        "black video on the guest's page once the host turned the camera off",
        lambda: guest.lab("(lab, id) => lab.brightness(id)", host_id),
    )
    host.lab("lab => lab.call.setVideoEnabled(true)")
    until(lambda: guest.lab("(lab, id) => lab.brightness(id)", host_id) > 20, "the host's video back")

    host.lab("lab => lab.shareCanvas()")
    assert host.state()["screenSharing"] is True
    until(
        lambda: guest.links()[0].get("frameWidth") == 640,
        "the shared 640x360 screen instead of the 320x240 camera on the guest's page",
        guest.links,
    )
    host.lab("lab => lab.call.stopScreenShare()")
    until(lambda: guest.links()[0].get("frameWidth") == 320, "the camera back after sharing", guest.links)
    # track.enabled and replaceTrack need no renegotiation: not one signal was sent for any of it.
    assert host.lab("lab => lab.signals.sent") == signals


def test_a_peer_that_leaves_is_dropped_and_ending_the_meeting_tears_every_page_down(mesh: MeshDeployment) -> None:
    meeting, users = mesh.meeting("Olu", "Pia", "Quin")
    pages = mesh.call(meeting, users)
    full_mesh(pages)
    leaver = users[2].id

    pages[2].lab("lab => lab.call.leave()")
    assert pages[2].state()["status"] == "ended" and pages[2].lab("lab => lab.ended") == "left"
    assert all(c["connectionState"] == "closed" for c in pages[2].lab("lab => lab.connections()"))
    for page in pages[:2]:
        until(
            lambda page=page: (
                [c["connectionState"] for c in page.lab("lab => lab.connections()") if c["userId"] == leaver]
                == ["closed"]
            ),
            "the others close their link to the peer that left",
            lambda page=page: page.lab("lab => lab.connections()"),
        )
    remaining = full_mesh(pages[:2])
    assert [len(own) for own in remaining] == [1, 1]

    mesh.api.start(users[0], meeting)
    mesh.api.end(users[0], meeting)
    until(
        lambda: all(page.state()["status"] == "ended" for page in pages[:2]),
        "every page ends when the host ends the meeting over HTTP",
        state_of(pages[:2]),
    )
    for page in pages[:2]:
        assert page.lab("lab => lab.ended") == "meeting-ended"
        assert page.state()["peers"] == []
        assert all(c["connectionState"] == "closed" for c in page.lab("lab => lab.connections()"))


def test_signals_refused_as_late_are_sent_again_and_the_newcomer_still_connects(mesh: MeshDeployment) -> None:
    meeting, users = mesh.meeting("Rui", "Sol", "Tao")
    host, guest = mesh.call(meeting, users[:2])
    full_mesh([host, guest])

    # The host's next signals (its answer to the newcomer, then its candidates) reach instance a 1.5 s
    # later than its quickest ones: an instance refuses them as overloaded past MAX_SIGNAL_WAIT_SECONDS
    # (1 s), as a busy one would, instead of relaying them late. Relayed or not, the call must connect.
    mesh.ingress_a.hold_next(1.5)
    newcomer = mesh.participant()
    newcomer.start(mesh.ingress_b.url, meeting, users[2])
    full_mesh([host, guest, newcomer])

    refused = host.lab("lab => lab.refusals")
    assert {"type": "answer", "code": "overloaded", "retrying": True} in refused, refused
    # The answer was sent again and the newcomer's first connection took it: not closed after the 20 s
    # answer timeout and replaced once the host's side failed (the only way back without a resend).
    to_host = [c for c in newcomer.lab("lab => lab.connections()") if c["userId"] == users[0].id]
    assert [c["connectionState"] for c in to_host] == ["connected"], to_host


def test_an_offer_the_targets_instance_reads_too_late_is_sent_again_and_connects(mesh: MeshDeployment) -> None:
    meeting, users = mesh.meeting("Wes", "Xia", "Yan")
    host, guest = mesh.call(meeting, users[:2])
    full_mesh([host, guest])

    # Instance b, the guest's, gets no CPU while the newcomer joins through a and offers to both: a relays
    # and acks the offer to the guest, and b reads it seconds late. b drops it and tells the newcomer
    # (signal-undelivered) rather than deliver it late; the newcomer sends it again.
    assert mesh.b.process is not None
    os.kill(mesh.b.process.pid, signal.SIGSTOP)
    try:
        newcomer = mesh.participant()
        newcomer.start(mesh.ingress_a.url, meeting, users[2])
        time.sleep(2.0)
    finally:
        os.kill(mesh.b.process.pid, signal.SIGCONT)
    full_mesh([host, guest, newcomer])

    assert {"type": "offer", "code": "overloaded", "retrying": True} in newcomer.lab("lab => lab.refusals")
    # The guest answered the offer sent again: one connection to the newcomer, never replaced.
    to_newcomer = [c for c in guest.lab("lab => lab.connections()") if c["userId"] == users[2].id]
    assert [c["connectionState"] for c in to_newcomer] == ["connected"], to_newcomer


def test_peers_of_a_crashed_instance_come_back_through_the_other_and_renegotiate(mesh: MeshDeployment) -> None:
    meeting, users = mesh.meeting("Rin", "Sam", "Tao")
    pages = mesh.call(meeting, users)
    full_mesh(pages)
    old_ids = [page.state()["self"]["peerId"] for page in pages]

    mesh.a.kill()
    try:
        # Pages 0 and 2 were on instance a: their sockets drop, and they rejoin through b.
        until(
            lambda: all(
                (s := pages[i].state())["status"] == "joined" and s["self"]["peerId"] != old_ids[i] for i in (0, 2)
            ),
            "the pages of the crashed instance back in the room with new peer ids",
            state_of(pages),
        )

        def linked_to_current_ids() -> bool:
            current = {page.state()["self"]["peerId"] for page in pages}
            return all(
                {link["peerId"] for link in own} == current - {page.state()["self"]["peerId"]}
                and all(link["connectionState"] == "connected" for link in own)
                for page, own in zip(pages, [page.links() for page in pages], strict=True)
            )

        until(linked_to_current_ids, "every page linked to the others' new peer ids", state_of(pages))
        before = [{link["userId"]: link for link in page.links()} for page in pages]

        # Signaling works end to end after the failover: an ICE restart from every side of every link
        # (each link's two sides offer at once, and settle it) gives every link new ICE credentials.
        for page in pages:
            page.lab("lab => lab.call.restartIce()")

        def restarted_with_media() -> bool:
            for page, old in zip(pages, before, strict=True):
                for link in page.links():
                    was = old[link["userId"]]
                    if link["connectionState"] != "connected" or link["framesDecoded"] <= was["framesDecoded"]:
                        return False
                    if link["localUfrag"] == was["localUfrag"] or link["remoteUfrag"] == was["remoteUfrag"]:
                        return False
            return True

        until(
            restarted_with_media,
            "new ICE credentials and more decoded video on every link",
            lambda: [p.links() for p in pages],
        )
    finally:
        mesh.a.start()
        mesh.a.wait_ready()


def test_the_access_token_is_renewed_before_it_expires_and_a_page_that_cannot_renew_is_cut(
    mesh: MeshDeployment,
) -> None:
    meeting, users = mesh.meeting("Uma", "Vic")
    ttl = 20
    renewing, lapsing = mesh.participant(), mesh.participant()
    renewing.start(mesh.ingress_a.url, meeting, users[0], host=True, access_token=short_lived(mesh, users[0], ttl))
    lapsing.start(mesh.ingress_b.url, meeting, users[1], access_token=short_lived(mesh, users[1], ttl), renew=False)
    full_mesh([renewing, lapsing])

    until(
        lambda: lapsing.state()["status"] == "ended",
        "the page without renewal cut at expiry",
        state_of([lapsing]),
        ttl + WAIT,
    )
    assert lapsing.lab("lab => lab.ended") == "session-expired"
    # Both tokens expired at the same second: the renewing page had sent refresh-token in time.
    time.sleep(2)
    assert renewing.state()["status"] == "joined"
    assert renewing.lab("lab => lab.renewals") >= 1
    assert renewing.lab("lab => lab.errors") == []


def test_the_call_connects_relay_only_through_coturn_with_credentials_from_rtc_config(mesh: MeshDeployment) -> None:
    meeting, users = mesh.meeting("Wen", "Xia", "Yan")
    pages = mesh.call(meeting, users, relay=True)

    links = full_mesh(pages)

    for own in links:
        for link in own:
            assert link["local"] == {"type": "relay", "address": RELAY_ADDRESS}, link
            assert link["remote"] == {"type": "relay", "address": RELAY_ADDRESS}, link


def test_coturn_refuses_expired_and_forged_credentials(mesh: MeshDeployment) -> None:
    meeting, (host,) = mesh.meeting("Zed")
    config = mesh.api.rtc_config(host, meeting)
    turn = next(server for server in config["iceServers"] if "username" in server)
    assert config["expiresAt"] is not None
    page = mesh.participant()

    def gather(username: str, credential: str) -> dict:
        servers = [{"urls": turn["urls"], "username": username, "credential": credential}]
        return page.lab("(lab, servers) => lab.gatherRelay(servers)", servers)

    granted = gather(turn["username"], turn["credential"])
    assert any(" typ relay " in candidate for candidate in granted["candidates"]), granted
    expired_name = f"{int(time.time()) - 60}:{host.id}"
    expired = gather(expired_name, turn_password(mesh.turn.secret, expired_name))
    forged = gather(turn["username"], turn_password("not-the-secret", turn["username"]))
    for refused in (expired, forged):
        assert refused["candidates"] == [], refused
        assert {error["errorCode"] for error in refused["errors"]} == {401}, refused


def turn_password(secret: str, username: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()


def short_lived(mesh: MeshDeployment, user: User, ttl: int) -> str:
    """An access token of ``user``'s login session that expires in ``ttl`` seconds."""
    session_id = jwt.decode(user.token, options={"verify_signature": False})["sid"]
    settings = Settings(database_url="postgresql://unused/db", jwt_secret=mesh.jwt_secret, access_token_ttl_seconds=ttl)
    return create_access_token(settings, uuid.UUID(user.id), uuid.UUID(session_id))


# The client against a scripted socket (no server) and a raw RTCPeerConnection in the same page, the
# "remote" peer. SCRIPTED_CALL sets up `call`, `handlers` (the client's socket listeners), `sent` (what
# the client emitted), `onSignal` (a hook on each signal the client sends) and `refuse` (the ack's error
# envelope for an event, or null), given `peers` for the join-room answer and `iceServers` for rtc-config.
SCRIPTED_CALL = """
  const handlers = {};
  const sent = [];
  let onSignal = () => {};
  let refuse = () => null;
  const socket = {
    connected: false,
    active: true,
    on(event, handler) { handlers[event] = handler; },
    emit(event, data) { sent.push({ event, data }); },
    timeout() {
      return {
        emit(event, data, ack) {
          sent.push({ event, data });
          const self = { peerId: 'me', userId: 'u1', displayName: 'Me', role: 'host' };
          ack(null, refuse(event, data) ?? (event === 'join-room' ? { ok: true, meetingId: 'm', self, peers } : { ok: true }));
          if (event === 'signal') onSignal(data);
        },
      };
    },
    connect() {},
    disconnect() { this.connected = false; },
  };
  const io = () => {
    setTimeout(() => { socket.connected = true; handlers.connect(); });
    return socket;
  };
  const fetch = async (url) =>
    new Response(JSON.stringify(url.endsWith('/rtc-config') ? { iceServers, expiresAt: null } : {}), { status: 200 });
  const localStream = await navigator.mediaDevices.getUserMedia({ video: { width: 160, height: 120 } });
  const call = new MeshCall({ apiUrl: 'http://127.0.0.1:9', meetingId: 'm', accessToken: 't', io, fetch, localStream });
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  // Hands the client's candidates to `remote` as they come, until both ends are connected and `also()`
  // holds, or the deadline passes.
  const connectRemote = async (remote, deadline, also = () => true) => {
    const delivered = new Set();
    while ((remote.connectionState !== 'connected' || call.getSnapshot().peers[0]?.connectionState !== 'connected' || !also()) && Date.now() < deadline) {
      for (const message of sent) {
        if (message.data?.type === 'ice-candidate' && !delivered.has(message)) {
          delivered.add(message);
          await remote.addIceCandidate(message.data.payload.candidate).catch(() => {});
        }
      }
      await sleep(50);
    }
  };
"""

# The remote's ICE candidates are delivered before its offer, and the client's own candidates are
# withheld from the remote: the two connect only if the client kept those early candidates and used them.
CANDIDATES_BEFORE_THE_OFFER = (
    """
async (MeshCall) => {
  const peers = [];
  const iceServers = [];
"""
    + SCRIPTED_CALL
    + """
  await call.join();

  const remote = new RTCPeerConnection();
  remote.addTransceiver('video', { direction: 'recvonly' });
  const candidates = [];
  remote.addEventListener('icecandidate', ({ candidate }) => candidate && candidates.push(candidate.toJSON()));
  await remote.setLocalDescription();
  while (remote.iceGatheringState !== 'complete') await sleep(50);
  const withoutCandidates = (sdp) => sdp.split('\\r\\n').filter((line) => !line.startsWith('a=candidate')).join('\\r\\n');
  const offer = { type: 'offer', sdp: withoutCandidates(remote.localDescription.sdp) };
  const from = { from: 'remote', fromUserId: 'u2' };
  for (const candidate of candidates) handlers.signal({ ...from, type: 'ice-candidate', payload: { callId: 'remote-call', candidate } });
  handlers.signal({ ...from, type: 'offer', payload: { callId: 'remote-call', description: offer, fresh: true } });

  const deadline = Date.now() + 20000;
  let answer;
  while (!(answer = sent.find((m) => m.data?.type === 'answer')) && Date.now() < deadline) await sleep(50);
  if (!answer) return { error: 'no answer', sent };
  await remote.setRemoteDescription({ type: 'answer', sdp: withoutCandidates(answer.data.payload.description.sdp) });
  while (remote.connectionState !== 'connected' && Date.now() < deadline) await sleep(50);
  const state = { remote: remote.connectionState, client: call.getSnapshot().peers.map((p) => p.connectionState), early: candidates.length };
  remote.close();
  call.leave();
  return state;
}
"""
)


def test_candidates_that_arrive_before_the_offer_are_kept_and_used(mesh: MeshDeployment) -> None:
    page = mesh.participant()
    outcome = page.lab(f"lab => ({CANDIDATES_BEFORE_THE_OFFER})(lab.MeshCall)")
    assert outcome["early"] > 0, outcome
    assert outcome["remote"] == "connected" and outcome["client"] == ["connected"], outcome


# The server refuses the client's first offer as overloaded (before relaying it, as the API does),
# and its first candidate as rate limited: both are sent again, the offer unchanged, and the remote
# that answers the resent offer connects.
OFFER_REFUSED = (
    """
async ([MeshCall, iceServers]) => {
  const peers = [{ peerId: 'remote', userId: 'u2', displayName: 'Remote', role: 'participant' }];
"""
    + SCRIPTED_CALL
    + """
  const refusals = [];
  call.addEventListener('signal-refused', ({ detail }) => refusals.push(detail));
  const refused = new Set();
  refuse = (event, data) => {
    if (event !== 'signal' || refused.has(data.type)) return null;
    refused.add(data.type);
    const code = data.type === 'offer' ? 'overloaded' : 'rate_limited';
    return { error: { code, message: 'retry shortly', details: null } };
  };
  await call.join();

  const deadline = Date.now() + 20000;
  const offers = () => sent.filter((m) => m.data?.type === 'offer');
  while (offers().length < 2 && Date.now() < deadline) await sleep(50);
  if (offers().length < 2) return { error: 'the refused offer was not sent again', refusals };
  const [first, again] = offers();
  const remote = new RTCPeerConnection({ iceServers });
  await remote.setRemoteDescription(again.data.payload.description);
  await remote.setLocalDescription();
  handlers.signal({ from: 'remote', fromUserId: 'u2', type: 'answer', payload: { callId: '0', description: remote.localDescription } });
  const candidates = () => sent.filter((m) => m.data?.type === 'ice-candidate').map((m) => JSON.stringify(m.data.payload.candidate));
  const resent = () => candidates().indexOf(candidates()[0], 1) > 0;
  await connectRemote(remote, deadline, resent);
  const state = {
    remote: remote.connectionState,
    client: call.getSnapshot().peers.map((p) => p.connectionState),
    sameOffer: again.data.payload.description.sdp === first.data.payload.description.sdp && again.data.sentAt > first.data.sentAt,
    offersSent: offers().length,
    refusals,
    candidatesResent: resent(),
    // The first candidate comes again behind the offer sent again, not before it.
    inOrder: sent.indexOf(again) < sent.findLastIndex((m) => m.data?.type === 'ice-candidate' && JSON.stringify(m.data.payload.candidate) === candidates()[0]),
  };
  remote.close();
  call.leave();
  return state;
}
"""
)


def test_a_signal_the_server_refuses_is_sent_again_and_the_link_connects(mesh: MeshDeployment) -> None:
    meeting, (host,) = mesh.meeting("Val")
    ice_servers = mesh.api.rtc_config(host, meeting)["iceServers"]
    page = mesh.participant()
    outcome = page.lab(f"(lab, servers) => ({OFFER_REFUSED})([lab.MeshCall, servers])", ice_servers)
    assert outcome == {
        "remote": "connected",
        "client": ["connected"],
        "sameOffer": True,
        "offersSent": 2,
        "refusals": [
            {"peerId": "remote", "type": "offer", "code": "overloaded", "retrying": True},
            {"peerId": "remote", "type": "ice-candidate", "code": "rate_limited", "retrying": True},
        ],
        "candidatesResent": True,
        "inOrder": True,
    }, outcome


# The client's first offer is refused as overloaded, and the socket reconnects (a new id) before the
# offer would be sent again: it is not, since the rejoin renegotiates under the new id.
REFUSED_THEN_RECONNECTED = (
    """
async (MeshCall) => {
  const peers = [{ peerId: 'remote', userId: 'u2', displayName: 'Remote', role: 'participant' }];
  const iceServers = [];
"""
    + SCRIPTED_CALL
    + """
  socket.id = 'first';
  let refusedOnce = false;
  refuse = (event, data) => {
    if (event !== 'signal' || data.type !== 'offer' || refusedOnce) return null;
    refusedOnce = true;
    socket.id = 'second';  // acked, then the connection dropped and came back under a new id
    return { error: { code: 'overloaded', message: 'retry shortly', details: null } };
  };
  await call.join();
  await sleep(1500);  // past the first resend's delay (0.125-0.375 s)
  const offers = sent.filter((m) => m.data?.type === 'offer').length;
  call.leave();
  return { refusedOnce, offers };
}
"""
)


def test_a_refused_signal_is_not_sent_again_after_a_reconnect(mesh: MeshDeployment) -> None:
    page = mesh.participant()
    outcome = page.lab(f"lab => ({REFUSED_THEN_RECONNECTED})(lab.MeshCall)")
    assert outcome == {"refusedOnce": True, "offers": 1}, outcome


# Both sides offer a new connection at the same moment (two peers joining at once list each other):
# the remote's offer reaches the client right after the client sent its own. The client is the polite
# side (its call id sorts after "0"), so it answers the remote's offer with a new connection (it drops
# its own rather than rolling it back), the remote ignores the client's offer, and they connect.
BOTH_OFFER_AT_ONCE = (
    """
async ([MeshCall, iceServers]) => {
  const peers = [{ peerId: 'remote', userId: 'u2', displayName: 'Remote', role: 'participant' }];
"""
    + SCRIPTED_CALL
    + """
  const remote = new RTCPeerConnection({ iceServers });
  remote.addTransceiver('audio', { direction: 'sendrecv' });
  remote.addTransceiver('video', { direction: 'sendrecv' });
  await remote.setLocalDescription();
  const from = { from: 'remote', fromUserId: 'u2' };
  // The remote's candidates follow its offer, as the server delivers them.
  let offerSent = false;
  const held = [];
  const sendCandidate = (candidate) =>
    handlers.signal({ ...from, type: 'ice-candidate', payload: { callId: '0', candidate: candidate.toJSON() } });
  remote.addEventListener('icecandidate', ({ candidate }) => {
    if (candidate) offerSent ? sendCandidate(candidate) : held.push(candidate);
  });
  let offered;
  onSignal = (data) => {
    if (data.type === 'offer') {
      onSignal = () => {};
      offered = call.peerConnection('remote');
      handlers.signal({ ...from, type: 'offer', payload: { callId: '0', description: remote.localDescription, fresh: true } });
      offerSent = true;
      held.forEach(sendCandidate);
    }
  };
  await call.join();

  const deadline = Date.now() + 20000;
  let answer;
  while (!(answer = sent.find((m) => m.data?.type === 'answer')) && Date.now() < deadline) await sleep(50);
  if (!answer) return { error: 'the client never answered the remote offer', sent: sent.map((m) => m.data?.type ?? m.event) };
  await remote.setRemoteDescription(answer.data.payload.description);
  await connectRemote(remote, deadline);
  const state = {
    remote: remote.connectionState,
    client: call.getSnapshot().peers.map((p) => p.connectionState),
    ownOfferDropped: offered.connectionState === 'closed' && call.peerConnection('remote') !== offered,
  };
  remote.close();
  call.leave();
  return state;
}
"""
)


def test_when_two_peers_offer_at_once_the_polite_one_answers_and_they_connect(mesh: MeshDeployment) -> None:
    meeting, (host,) = mesh.meeting("Abe")
    ice_servers = mesh.api.rtc_config(host, meeting)["iceServers"]  # STUN and TURN, as in a real call
    page = mesh.participant()
    outcome = page.lab(f"(lab, servers) => ({BOTH_OFFER_AT_ONCE})([lab.MeshCall, servers])", ice_servers)
    assert outcome == {"remote": "connected", "client": ["connected"], "ownOfferDropped": True}, outcome
