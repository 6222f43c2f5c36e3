// Loaded by `chatvista-ops smoke --browser` into a page of the live frontend, so that everything it sends
// carries the frontend's origin, as the users' own pages do. Python drives it through window.chatvistaSmoke.
// The call is clients/web/mesh.js over socket.io-client, both handed to install().
const API_PREFIX = '/api/v1';
const REQUEST_TIMEOUT_MS = 10_000;

class Smoke {
  #io;
  #MeshCall;
  call = null;
  stream = null;
  connectErrors = [];
  iceErrors = [];
  errors = [];

  constructor({ io, MeshCall }) {
    this.#io = io;
    this.#MeshCall = MeshCall;
  }

  /** One API request with the given token; never throws: {status, body} or {error}. */
  async request(apiUrl, method, path, token, body) {
    try {
      const response = await fetch(`${apiUrl}${API_PREFIX}${path}`, {
        method,
        headers: {
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      return { status: response.status, body: await response.json().catch(() => null) };
    } catch (error) {
      return { error: String(error) };
    }
  }

  async start({ apiUrl, meetingId, accessToken, relay }) {
    this.stream ??= await navigator.mediaDevices.getUserMedia({
      audio: true,
      video: { width: 320, height: 240, frameRate: 10 },
    });
    this.connectErrors = [];
    this.iceErrors = [];
    this.errors = [];
    this.call = new this.#MeshCall({
      apiUrl,
      meetingId,
      accessToken,
      localStream: this.stream,
      iceTransportPolicy: relay ? 'relay' : 'all',
      io: (...args) => {
        const socket = this.#io(...args);
        socket.on('connect_error', (error) => this.connectErrors.push(String(error?.message ?? error)));
        return socket;
      },
    });
    this.call.addEventListener('error', (event) => this.errors.push(describe(event.detail.error)));
    this.call.addEventListener('ice-error', ({ detail }) => {
      this.iceErrors.push({ url: detail.url, errorCode: detail.errorCode, errorText: detail.errorText });
    });
    // Not awaited: Python watches state() and names what went wrong while it waits.
    this.call.join().catch(() => {});
  }

  /** Where the call is: its status, why it ended, and per link whether media arrives and by which route. */
  async state() {
    const snapshot = this.call.getSnapshot();
    const links = [];
    for (const peer of snapshot.peers) {
      const pc = this.call.peerConnection(peer.peerId);
      if (!pc) continue;
      const report = await pc.getStats();
      const link = { connectionState: pc.connectionState, framesDecoded: 0, packetsReceived: 0, local: null, remote: null };
      let pair = null;
      report.forEach((stat) => {
        if (stat.type === 'inbound-rtp' && stat.kind === 'video') link.framesDecoded = stat.framesDecoded ?? 0;
        if (stat.type === 'inbound-rtp' && stat.kind === 'audio') link.packetsReceived = stat.packetsReceived ?? 0;
        if (stat.type === 'transport' && stat.selectedCandidatePairId) pair = report.get(stat.selectedCandidatePairId);
      });
      if (pair) {
        const local = report.get(pair.localCandidateId);
        const remote = report.get(pair.remoteCandidateId);
        link.local = { type: local.candidateType, protocol: local.protocol, url: local.url ?? null };
        link.remote = { type: remote.candidateType, protocol: remote.protocol };
      }
      links.push(link);
    }
    return {
      status: snapshot.status,
      endedReason: snapshot.endedReason,
      errors: this.errors,
      connectErrors: this.connectErrors,
      iceErrors: this.iceErrors,
      links,
    };
  }

  leave() {
    this.call?.leave();
  }
}

function describe(error) {
  if (!error) return 'unknown error';
  const status = error.status ? ` (HTTP ${error.status})` : '';
  return error.code ? `${error.code}: ${error.message}${status}` : String(error.message ?? error);
}

export function install(dependencies) {
  window.chatvistaSmoke = new Smoke(dependencies);
}
