// The page the real-browser tests and the benchmark drive: one participant running the mesh client
// (mesh.js) with a fake camera and microphone, rendering every remote video like a meeting UI would.
// Python reads window.lab through Playwright.
import { io } from '/socket.io.esm.min.js';
import { MeshCall } from '/mesh.js';

const now = () => performance.timeOrigin + performance.now();
const ufrag = (description) => description?.sdp.match(/a=ice-ufrag:(\S+)/)?.[1] ?? null;

class Lab {
  // For tests that drive the client directly, e.g. through a scripted socket.
  MeshCall = MeshCall;
  call = null;
  statuses = [];
  signals = { sent: 0, received: 0 };
  renewals = 0;
  firstFrames = {}; // remote userId -> epoch ms of the first video frame shown
  ended = null;
  errors = [];
  iceErrors = [];
  refusals = []; // signals the server refused: {type, code, retrying}
  #refreshToken = null;
  #apiUrl = null;
  #videos = new Map(); // remote stream -> its <video>
  #connections = new Map(); // every RTCPeerConnection the call has had -> {peerId, userId}

  async start({ apiUrl, meetingId, accessToken, refreshToken, accessCode, iceTransportPolicy, video }) {
    // Without a refresh token this participant never renews its access token.
    this.#apiUrl = apiUrl;
    this.#refreshToken = refreshToken;
    const localStream = await navigator.mediaDevices.getUserMedia({
      audio: true,
      video: { width: video.width, height: video.height, frameRate: video.frameRate },
    });
    this.call = new MeshCall({
      apiUrl,
      meetingId,
      accessToken,
      accessCode,
      localStream,
      iceTransportPolicy,
      io: (...args) => this.#counting(io(...args)),
      renewAccessToken: refreshToken ? () => this.#renew() : undefined,
    });
    this.call.addEventListener('change', () => this.#onChange());
    this.call.addEventListener('ended', (event) => {
      this.ended = event.detail.reason;
    });
    this.call.addEventListener('error', (event) => this.errors.push(String(event.detail.error)));
    this.call.addEventListener('ice-error', (event) => this.iceErrors.push(event.detail));
    this.call.addEventListener('signal-refused', ({ detail: { type, code, retrying } }) => {
      this.refusals.push({ type, code, retrying });
    });
    await this.call.join();
  }

  state() {
    const snapshot = this.call.getSnapshot();
    return {
      status: snapshot.status,
      endedReason: snapshot.endedReason,
      self: snapshot.self,
      peers: snapshot.peers.map(({ peerId, userId, connectionState, stream }) => ({
        peerId,
        userId,
        connectionState,
        tracks: stream.getTracks().filter((track) => track.readyState === 'live').map((track) => track.kind),
      })),
      audioEnabled: snapshot.audioEnabled,
      videoEnabled: snapshot.videoEnabled,
      screenSharing: snapshot.screenSharing,
    };
  }

  /** Every connection the call has had, closed ones included. */
  connections() {
    return [...this.#connections].map(([pc, peer]) => ({ ...peer, connectionState: pc.connectionState }));
  }

  /** Per link: its state, what it decoded and through which candidates it flows. */
  async links() {
    const links = [];
    for (const peer of this.call.getSnapshot().peers) {
      const pc = this.call.peerConnection(peer.peerId);
      // Rekeyed or closed while an earlier link's stats were awaited: the next poll sees it as it is now.
      if (!pc) continue;
      const report = await pc.getStats();
      const link = {
        peerId: peer.peerId,
        userId: peer.userId,
        connectionState: pc.connectionState,
        framesDecoded: 0,
        localUfrag: ufrag(pc.localDescription),
        remoteUfrag: ufrag(pc.remoteDescription),
      };
      let pair = null;
      report.forEach((stat) => {
        if (stat.type === 'inbound-rtp' && stat.kind === 'video') {
          link.framesDecoded = stat.framesDecoded ?? 0;
          link.frameWidth = stat.frameWidth ?? null;
        }
        if (stat.type === 'transport' && stat.selectedCandidatePairId) pair = report.get(stat.selectedCandidatePairId);
      });
      if (pair) {
        const local = report.get(pair.localCandidateId);
        const remote = report.get(pair.remoteCandidateId);
        link.local = { type: local.candidateType, address: local.address };
        link.remote = { type: remote.candidateType, address: remote.address };
      }
      links.push(link);
    }
    return links;
  }

  /** Mean brightness (0-255) of the video shown for a remote user: about 0 while they send black. */
  brightness(userId) {
    const element = [...this.#videos.values()].find((video) => video.dataset.userId === userId);
    if (!element || element.videoWidth === 0) return null;
    const canvas = document.createElement('canvas');
    canvas.width = 32;
    canvas.height = 24;
    const context = canvas.getContext('2d', { willReadFrequently: true });
    context.drawImage(element, 0, 0, canvas.width, canvas.height);
    const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
    let sum = 0;
    for (let i = 0; i < data.length; i += 4) sum += (data[i] + data[i + 1] + data[i + 2]) / 3;
    return sum / (data.length / 4);
  }

  /** Gather relay candidates with these ICE servers: what a TURN server grants or refuses. */
  async gatherRelay(iceServers) {
    const pc = new RTCPeerConnection({ iceServers, iceTransportPolicy: 'relay' });
    const candidates = [];
    const errors = [];
    pc.addEventListener('icecandidate', ({ candidate }) => candidate && candidates.push(candidate.candidate));
    pc.addEventListener('icecandidateerror', (event) => errors.push({ errorCode: event.errorCode, errorText: event.errorText }));
    pc.addTransceiver('audio');
    await pc.setLocalDescription();
    for (let waited = 0; pc.iceGatheringState !== 'complete' && waited < 10_000; waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    pc.close();
    return { candidates, errors };
  }

  /** The floor under any signaling: two connections in this page handing each other their offer,
   * answer and candidates directly. Milliseconds from the offer to the first video frame shown. */
  async localPair(video) {
    const stream = await navigator.mediaDevices.getUserMedia({ video });
    const sender = new RTCPeerConnection();
    const receiver = new RTCPeerConnection();
    sender.addEventListener('icecandidate', ({ candidate }) => candidate && receiver.addIceCandidate(candidate));
    receiver.addEventListener('icecandidate', ({ candidate }) => candidate && sender.addIceCandidate(candidate));
    const shown = new Promise((resolve) => {
      receiver.addEventListener('track', ({ track }) => {
        const element = document.createElement('video');
        element.muted = true;
        element.autoplay = true;
        element.srcObject = new MediaStream([track]);
        element.requestVideoFrameCallback(() => resolve(now()));
      });
    });
    const started = now();
    for (const track of stream.getTracks()) sender.addTrack(track);
    await sender.setLocalDescription();
    await receiver.setRemoteDescription(sender.localDescription);
    await receiver.setLocalDescription();
    await sender.setRemoteDescription(receiver.localDescription);
    const elapsed = (await shown) - started;
    sender.close();
    receiver.close();
    for (const track of stream.getTracks()) track.stop();
    return elapsed;
  }

  /** Share a synthetic "screen" (a 640x360 canvas) instead of the camera. */
  async shareCanvas() {
    const canvas = document.createElement('canvas');
    canvas.width = 640;
    canvas.height = 360;
    const context = canvas.getContext('2d');
    let frame = 0;
    this.canvasTimer = setInterval(() => {
      context.fillStyle = `hsl(${(frame += 7) % 360} 60% 50%)`;
      context.fillRect(0, 0, canvas.width, canvas.height);
    }, 100);
    await this.call.shareScreen(canvas.captureStream(10));
  }

  async #renew() {
    const response = await fetch(`${this.#apiUrl}/api/v1/auth/refresh`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ refreshToken: this.#refreshToken }),
    });
    if (!response.ok) throw new Error(`refresh answered ${response.status}`);
    const body = await response.json();
    this.#refreshToken = body.refreshToken;
    this.renewals += 1;
    return body.accessToken;
  }

  #counting(socket) {
    socket.onAnyOutgoing((event) => {
      if (event === 'signal') this.signals.sent += 1;
    });
    socket.onAny((event) => {
      if (event === 'signal') this.signals.received += 1;
    });
    return socket;
  }

  #onChange() {
    const snapshot = this.call.getSnapshot();
    if (this.statuses.at(-1)?.status !== snapshot.status) this.statuses.push({ status: snapshot.status, at: now() });
    for (const peer of snapshot.peers) {
      const pc = this.call.peerConnection(peer.peerId);
      if (pc) this.#connections.set(pc, { peerId: peer.peerId, userId: peer.userId });
    }
    const shown = new Set(snapshot.peers.map((peer) => peer.stream));
    for (const [stream, element] of this.#videos) {
      if (!shown.has(stream)) {
        element.remove();
        this.#videos.delete(stream);
      }
    }
    for (const peer of snapshot.peers) {
      if (this.#videos.has(peer.stream) || peer.stream.getVideoTracks().length === 0) continue;
      const element = document.createElement('video');
      element.dataset.userId = peer.userId;
      this.#videos.set(peer.stream, element);
      element.muted = true;
      element.autoplay = true;
      element.playsInline = true;
      element.srcObject = peer.stream;
      document.getElementById('videos').append(element);
      element.requestVideoFrameCallback(() => {
        this.firstFrames[peer.userId] ??= now();
      });
    }
  }
}

window.lab = new Lab();
