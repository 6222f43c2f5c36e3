// ChatVista mesh call: the browser side of the ChatVista API's WebRTC signaling.
//
// One RTCPeerConnection per other participant (a full mesh; media never touches the API). It joins the
// meeting over HTTP, takes its ICE servers from `rtc-config`, speaks the socket.io protocol documented in
// docs/signaling.md, renews the access token before it expires, and survives a socket reconnect (to any
// API instance). Dependency-free: pass socket.io-client's `io`. Types: mesh.d.ts.

const API_PREFIX = '/api/v1';
const REQUEST_TIMEOUT_MS = 10_000;
// Renew the access token this long before it expires (a quarter of its life when that is shorter).
const RENEW_MARGIN_S = 60;
// Fetch new TURN credentials when the current ones expire within this time.
const TURN_RENEW_MARGIN_MS = 60_000;
// An offer without an answer by then went to a peer that is gone (the server keeps a crashed
// instance's peers listed for up to 15 s), so its link is closed.
const ANSWER_TIMEOUT_MS = 20_000;
// After a reconnect, a link to a peer that is no longer listed keeps its media this long, waiting for
// that peer to come back under a new peerId; then it is closed.
const STALE_LINK_GRACE_MS = 20_000;
const RETRY_MS = 1_000;
// The first join gives up when it is not in the room by then (the API unreachable, say).
const JOIN_TIMEOUT_MS = 30_000;
// Of two sides of a failed link, the polite one waits this long before restarting ICE itself, so the
// two rarely offer at once.
const POLITE_RESTART_DELAY_MS = 3_000;
const RETRYABLE = new Set(['unavailable', 'overloaded', 'rate_limited', 'timeout']);
// A signal the server refused without relaying it (too busy, rate limited), or dropped as read too late
// (`signal-undelivered`), is sent again after these delays (each between half and one and a half times
// its value), while it is still the link's current one. Not after a timeout or `unavailable`: Redis may
// have taken that one, and a second fresh offer would replace the connection its first one made. Their
// sum stays well under ANSWER_TIMEOUT_MS, so a refused offer or answer is through long before its link
// is given up.
const RESENDABLE = new Set(['overloaded', 'rate_limited']);
const RESEND_DELAYS_MS = [250, 500, 1_000, 2_000, 4_000];
// A `signal-undelivered` comes from the target's instance once it reads the signal, at most seconds later;
// a signal is remembered this long for it.
const UNDELIVERED_WITHIN_MS = 15_000;
// Candidates remembered per link since its last offer or answer, to send again behind it.
const MAX_TRAIL = 50;
// join-room refusals that end the call for a known reason (a rejoin after the meeting ended, say).
const JOIN_REFUSALS = { meeting_ended: 'meeting-ended', removed_from_meeting: 'removed' };
// Candidates kept per peer until its offer arrives; a browser gathers a handful per network.
const MAX_EARLY_CANDIDATES = 50;

export class MeshError extends Error {
  constructor(code, message, { status = null, details = null } = {}) {
    super(message);
    this.name = 'MeshError';
    this.code = code;
    this.status = status;
    this.details = details;
  }
}

export class MeshCall extends EventTarget {
  #options;
  #base;
  #token;
  #fetch;
  // Identifies this call in signal payloads; unlike the peerId, it survives reconnects, so the other
  // side can tell a reconnected peer from a new one.
  #callId = crypto.randomUUID();
  #socket = null;
  #status = 'idle';
  #endedReason = null;
  #self = null;
  #links = new Map(); // remote peerId -> link
  #known = new Map(); // peerId -> {peerId, userId, displayName, role}, from join-room and peer-joined
  // Our own ids before reconnects: a crashed instance's peers stay listed for a while, ours included.
  #formerIds = new Set();
  #early = new Map(); // peerId -> ICE candidates that came before any connection with that peer
  #unconfirmed = new Map(); // sentAt -> a signal sent lately, for a `signal-undelivered` naming it
  #lastSentAt = 0;
  #renewedOnConnect = false;
  #iceServers = [];
  #turnExpiresAt = null;
  #screen = null;
  #ownsScreen = false;
  #timers = new Set();
  #renewTimer = null;
  #firstJoin = null;
  #snapshot;

  constructor(options) {
    super();
    const { apiUrl, meetingId, accessToken, io } = options ?? {};
    for (const [name, value] of Object.entries({ apiUrl, meetingId, accessToken })) {
      if (typeof value !== 'string' || !value) {
        throw new MeshError('invalid_options', `${name} is required (a non-empty string)`);
      }
    }
    if (typeof io !== 'function') {
      throw new MeshError('invalid_options', "io is required: pass socket.io-client's io (import { io } from 'socket.io-client')");
    }
    const url = parseUrl(apiUrl);
    if (!url || url.pathname !== '/' || url.search) {
      throw new MeshError(
        'invalid_options',
        `apiUrl must be the bare backend origin (e.g. https://api.example.com), not ${apiUrl}: the client adds ${API_PREFIX} itself, and socket.io would read a path as a namespace`,
      );
    }
    this.#options = options;
    this.#base = url.origin;
    this.#token = accessToken;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#snapshot = this.#buildSnapshot();
  }

  // -- for React (useSyncExternalStore) and other observers -------------------------------------

  subscribe = (listener) => {
    this.addEventListener('change', listener);
    return () => this.removeEventListener('change', listener);
  };

  getSnapshot = () => this.#snapshot;

  // -- the call -----------------------------------------------------------------------------------

  /** Join over HTTP, fetch rtc-config, connect and enter the room; resolves once in the room. */
  async join() {
    if (this.#status !== 'idle') throw new MeshError('invalid_state', `join() was already called (status ${this.#status})`);
    this.#setStatus('connecting');
    const joined = new Promise((resolve, reject) => {
      this.#firstJoin = { resolve, reject };
    });
    this.#later(() => {
      if (this.#firstJoin) this.#end('error', { error: new MeshError('join_timeout', `not in the room within ${JOIN_TIMEOUT_MS} ms`) });
    }, JOIN_TIMEOUT_MS);
    try {
      const { accessCode } = this.#options;
      await this.#http('POST', `/meetings/${encodeURIComponent(this.#options.meetingId)}/join`, accessCode ? { accessCode } : {});
      await this.#loadRtcConfig();
      // leave() meanwhile: it settled the join already.
      if (this.#status === 'ended') return joined;
      this.#openSocket();
      this.#scheduleRenewal();
    } catch (error) {
      this.#end('error', { error });
    }
    return joined;
  }

  /** Hang up: close every link and the socket. The local stream stays the caller's. */
  leave() {
    this.#end('left');
  }

  setAudioEnabled(enabled) {
    for (const track of this.#localTracks('audio')) track.enabled = Boolean(enabled);
    this.#changed();
  }

  setVideoEnabled(enabled) {
    for (const track of this.#localTracks('video')) track.enabled = Boolean(enabled);
    this.#changed();
  }

  /** Send a screen instead of the camera on every link (replaceTrack: no renegotiation). Without a
   * stream, asks the browser for one (getDisplayMedia). */
  async shareScreen(stream) {
    const display = stream ?? (await navigator.mediaDevices.getDisplayMedia({ video: true }));
    const track = display.getVideoTracks()[0];
    if (!track) throw new MeshError('no_video_track', 'the stream to share has no video track');
    this.#stopOwnScreen();
    this.#screen = track;
    this.#ownsScreen = !stream;
    track.addEventListener('ended', () => {
      if (this.#screen === track) this.stopScreenShare();
    });
    await this.#sendVideo(track);
    this.#changed();
  }

  async stopScreenShare() {
    if (!this.#screen) return;
    this.#stopOwnScreen();
    this.#screen = null;
    await this.#sendVideo(this.#cameraTrack());
    this.#changed();
  }

  /** Restart ICE on every link, e.g. after the device changed networks. */
  async restartIce() {
    if (this.#status !== 'joined') return;
    await Promise.all([...this.#links.values()].map((link) => this.#enqueue(link, () => this.#offer(link, { iceRestart: true }))));
  }

  /** The RTCPeerConnection to a peer, for its getStats(). */
  peerConnection(peerId) {
    return this.#links.get(peerId)?.pc;
  }

  /** Send another event of the protocol (chat-message, raise-hand, reaction, mute-participant,
   * remove-participant); resolves with the server's reply, rejects with a MeshError. */
  send(event, data) {
    return this.#call(event, data);
  }

  // -- HTTP ---------------------------------------------------------------------------------------

  async #http(method, path, body, { renewed = false } = {}) {
    const response = await this.#fetch(`${this.#base}${API_PREFIX}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${this.#token}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    if (response.status === 401 && !renewed && this.#options.renewAccessToken) {
      this.#token = await this.#options.renewAccessToken();
      return this.#http(method, path, body, { renewed: true });
    }
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      throw new MeshError(data?.code ?? 'http_error', data?.message ?? `${method} ${path} answered ${response.status}`, {
        status: response.status,
        details: data?.details ?? null,
      });
    }
    return data;
  }

  async #loadRtcConfig() {
    const config = await this.#http('GET', `/meetings/${encodeURIComponent(this.#options.meetingId)}/rtc-config`);
    this.#iceServers = config.iceServers;
    this.#turnExpiresAt = config.expiresAt ? Date.parse(config.expiresAt) : null;
  }

  async #freshIceServers() {
    if (this.#turnExpiresAt === null || this.#turnExpiresAt - Date.now() > TURN_RENEW_MARGIN_MS) return;
    await this.#loadRtcConfig();
    for (const { pc } of this.#links.values()) pc.setConfiguration(this.#rtcConfiguration());
  }

  #rtcConfiguration() {
    return {
      iceServers: this.#iceServers,
      iceTransportPolicy: this.#options.iceTransportPolicy ?? 'all',
      bundlePolicy: 'max-bundle',
    };
  }

  // -- the socket ---------------------------------------------------------------------------------

  #openSocket() {
    // WebSocket only: App Platform has no sticky sessions, which socket.io's HTTP long-polling needs.
    const socket = this.#options.io(this.#base, {
      transports: ['websocket'],
      auth: (send) => send({ token: this.#token }),
      reconnectionDelayMax: 5_000,
    });
    this.#socket = socket;
    socket.on('connect', () => this.#enterRoom(socket));
    socket.on('connect_error', (error) => this.#onConnectError(socket, error));
    socket.on('disconnect', (reason) => {
      if (this.#status === 'ended') return;
      this.#unconfirmed.clear(); // nothing sent before is resent after a reconnect
      // The server only disconnects on purpose after telling why (handled below); anything else
      // without a reason given is final too, since socket.io-client does not reconnect after it.
      if (reason === 'io server disconnect') this.#end('disconnected');
      else this.#setStatus('reconnecting');
    });
    socket.on('peer-joined', (peer) => {
      this.#known.set(peer.peerId, peer);
      // Its offer may have overtaken this notice (a signal between peers on one instance skips Redis).
      const link = this.#links.get(peer.peerId);
      if (link) {
        Object.assign(link, { userId: peer.userId, displayName: peer.displayName, role: peer.role });
        this.#changed();
      }
    });
    socket.on('peer-left', ({ peerId }) => {
      this.#known.delete(peerId);
      this.#early.delete(peerId);
      const link = this.#links.get(peerId);
      if (link) this.#close(link);
    });
    socket.on('signal', (message) => this.#onSignal(message));
    socket.on('signal-undelivered', (notice) => {
      const sent = this.#unconfirmed.get(notice?.sentAt);
      if (!sent) return;
      this.#unconfirmed.delete(notice.sentAt);
      this.#refused(sent, notice.code ?? 'overloaded');
    });
    socket.on('meeting-ended', (notice) => this.#end('meeting-ended', { notice }));
    socket.on('session-ended', (notice) => this.#end('session-ended', { notice }));
    socket.on('session-expired', (notice) => this.#end('session-expired', { notice }));
    socket.on('participant-removed', (detail) => {
      if (detail.peerId === this.#self?.peerId) this.#end('removed', { notice: detail });
      else this.#emit('participant-removed', detail);
    });
    socket.on('participant-muted', (detail) => {
      if (detail.peerId === this.#self?.peerId) {
        for (const track of this.#localTracks(detail.kind)) track.enabled = false;
        this.#changed();
      }
      this.#emit('participant-muted', detail);
    });
    for (const event of ['chat-message', 'raise-hand', 'reaction']) {
      socket.on(event, (detail) => this.#emit(event, detail));
    }
  }

  async #onConnectError(socket, error) {
    // After a network error socket.io-client retries by itself (the socket stays active).
    if (this.#status === 'ended' || socket.active) return;
    // Refused by the server (e.g. the token expired while offline): renew once, then give up.
    const code = error?.data?.code ?? 'unauthorized';
    if (code === 'unauthorized' && this.#options.renewAccessToken && !this.#renewedOnConnect) {
      this.#renewedOnConnect = true;
      try {
        this.#token = await this.#options.renewAccessToken();
        socket.connect();
        return;
      } catch (renewError) {
        this.#end('unauthorized', { error: renewError });
        return;
      }
    }
    this.#end(code === 'unauthorized' ? 'unauthorized' : 'error', { error: new MeshError(code, error.message) });
  }

  #call(event, data) {
    const socket = this.#socket;
    if (!socket?.connected) return Promise.reject(new MeshError('not_connected', `cannot send ${event}: not connected`));
    return new Promise((resolve, reject) => {
      socket.timeout(REQUEST_TIMEOUT_MS).emit(event, data, (timeout, reply) => {
        if (timeout) reject(new MeshError('timeout', `${event} got no answer within ${REQUEST_TIMEOUT_MS} ms`));
        else if (reply?.error) reject(new MeshError(reply.error.code, reply.error.message, { details: reply.error.details }));
        else resolve(reply);
      });
    });
  }

  async #enterRoom(socket) {
    this.#renewedOnConnect = false;
    const rejoin = this.#self !== null;
    this.#setStatus('joining');
    let reply;
    try {
      reply = await this.#call('join-room', { meetingId: this.#options.meetingId });
    } catch (error) {
      if (RETRYABLE.has(error.code) && socket.connected) {
        this.#later(() => socket.connected && this.#socket === socket && this.#enterRoom(socket), RETRY_MS);
      } else if (error.code !== 'not_connected') {
        this.#end(JOIN_REFUSALS[error.code] ?? 'error', { error });
      }
      return;
    }
    // Ended, or reconnected meanwhile: that connection's own join-room does the rest.
    if (this.#status === 'ended' || this.#socket !== socket || !socket.connected) return;
    if (this.#self) this.#formerIds.add(this.#self.peerId);
    this.#self = reply.self;
    const peers = reply.peers.filter((peer) => !this.#formerIds.has(peer.peerId));
    for (const peer of peers) this.#known.set(peer.peerId, peer);
    const listed = new Set(peers.map((peer) => peer.peerId));
    if (rejoin) {
      await this.#freshIceServers().catch((error) => this.#emit('error', { error }));
      for (const link of this.#links.values()) {
        if (listed.has(link.peerId)) {
          // The peer is still there under the same id: tell it our new id by renegotiating the same
          // connection, with an ICE restart if its media broke meanwhile.
          const restart = ['failed', 'disconnected'].includes(link.pc.connectionState);
          this.#enqueue(link, () => this.#offer(link, { iceRestart: restart }));
        } else {
          link.stale = true;
        }
      }
      this.#later(() => {
        for (const link of this.#links.values()) if (link.stale) this.#close(link);
      }, STALE_LINK_GRACE_MS);
    }
    // The newcomer offers: the peers already in the room wait for our offer, so no two offer at once.
    for (const peer of peers) {
      if (this.#links.has(peer.peerId)) continue;
      const link = this.#createLink(peer);
      this.#enqueue(link, () => this.#offer(link, { fresh: true }));
    }
    this.#setStatus('joined');
    this.#firstJoin?.resolve(this.#snapshot);
    this.#firstJoin = null;
  }

  // -- links --------------------------------------------------------------------------------------

  #createLink(peer) {
    const pc = new RTCPeerConnection(this.#rtcConfiguration());
    const link = {
      peerId: peer.peerId,
      userId: peer.userId,
      displayName: peer.displayName ?? null,
      role: peer.role ?? null,
      callId: null,
      polite: false,
      pc,
      stream: new MediaStream(),
      queue: Promise.resolve(),
      candidates: [],
      ignoreOffer: false,
      stale: false,
      answerTimer: null,
      restartTimer: null,
      described: null, // the body of the last offer or answer sent on this link
      trail: [], // the candidates sent since then
      resends: [], // refused signals waiting for resendTimer
      resendTimer: null,
    };
    link.candidates.push(...(this.#early.get(peer.peerId) ?? []));
    this.#early.delete(peer.peerId);
    // addTrack (not addTransceiver) where there is a track: if both sides offer at once, the polite
    // side's rollback can reuse these senders for the other side's offer.
    for (const kind of ['audio', 'video']) {
      const track = kind === 'audio' ? this.#localTracks('audio')[0] : this.#videoToSend();
      if (track) pc.addTrack(track);
      else pc.addTransceiver(kind, { direction: 'sendrecv' });
    }
    pc.addEventListener('icecandidate', ({ candidate }) => {
      if (candidate) this.#signal(link, 'ice-candidate', { candidate: candidate.toJSON() });
    });
    pc.addEventListener('icecandidateerror', (event) => {
      this.#emit('ice-error', { peerId: link.peerId, url: event.url, errorCode: event.errorCode, errorText: event.errorText });
    });
    pc.addEventListener('track', ({ track }) => {
      link.stream.addTrack(track);
      this.#changed();
    });
    pc.addEventListener('signalingstatechange', () => {
      if (pc.signalingState === 'stable') this.#clearTimer(link, 'answerTimer');
    });
    pc.addEventListener('connectionstatechange', () => {
      if (pc.connectionState === 'failed') this.#restartLater(link);
      this.#changed();
    });
    this.#links.set(link.peerId, link);
    this.#changed();
    return link;
  }

  #close(link) {
    if (this.#links.get(link.peerId) === link) this.#links.delete(link.peerId);
    this.#clearTimer(link, 'answerTimer');
    this.#clearTimer(link, 'restartTimer');
    this.#clearTimer(link, 'resendTimer');
    link.closed = true;
    link.pc.close();
    this.#changed();
  }

  #rekey(link, peerId) {
    if (link.peerId === peerId) return;
    this.#links.delete(link.peerId);
    link.peerId = peerId;
    const known = this.#known.get(peerId);
    if (known) Object.assign(link, { userId: known.userId, displayName: known.displayName, role: known.role });
    this.#links.set(peerId, link);
    this.#changed();
  }

  /** Run `task` after everything already queued on this link: signals are applied one at a time. */
  #enqueue(link, task) {
    link.queue = link.queue
      .then(() => (link.closed || this.#status === 'ended' ? undefined : task()))
      .catch((error) => this.#emit('error', { peerId: link.peerId, error }));
    return link.queue;
  }

  async #offer(link, { iceRestart = false, fresh = false } = {}) {
    const { pc } = link;
    if (pc.signalingState === 'have-remote-offer' || pc.signalingState === 'closed') return;
    if (iceRestart) await this.#freshIceServers();
    await pc.setLocalDescription(await pc.createOffer(iceRestart ? { iceRestart: true } : undefined));
    this.#signal(link, 'offer', { description: pc.localDescription, fresh });
    this.#clearTimer(link, 'answerTimer');
    link.answerTimer = this.#later(() => {
      if (pc.signalingState === 'have-local-offer') this.#close(link);
    }, ANSWER_TIMEOUT_MS);
  }

  #restartLater(link) {
    this.#clearTimer(link, 'restartTimer');
    link.restartTimer = this.#later(() => {
      if (link.pc.connectionState === 'failed' && this.#status === 'joined') {
        this.#enqueue(link, () => this.#offer(link, { iceRestart: true }));
      }
    }, link.polite ? POLITE_RESTART_DELAY_MS : 0);
  }

  #signal(link, type, body, attempt = 0) {
    const socket = this.#socket;
    // Never buffered across a reconnect: the rejoin renegotiates with the peers' current ids.
    if (!socket?.connected) return;
    if (attempt === 0) {
      if (type !== 'ice-candidate') {
        link.described = body;
        link.trail = [];
      } else if (link.trail.length < MAX_TRAIL) {
        link.trail.push(body);
      }
    }
    const data = { to: link.peerId, type, payload: { callId: this.#callId, ...body }, sentAt: this.#stamp() };
    // socket.id changes at every reconnect (the Socket object stays): nothing is resent across one.
    const sent = { link, to: link.peerId, type, body, attempt, sid: socket.id, sentAt: data.sentAt };
    this.#unconfirmed.set(data.sentAt, sent);
    this.#later(() => this.#unconfirmed.delete(data.sentAt), UNDELIVERED_WITHIN_MS);
    socket.timeout(REQUEST_TIMEOUT_MS).emit('signal', data, (timeout, reply) => {
      const code = timeout ? null : reply?.error?.code;
      if (!code) return;
      this.#unconfirmed.delete(data.sentAt);
      this.#refused(sent, code);
    });
  }

  /** A signal's `sentAt`: the page's clock in ms, which lets the server refuse (ack `overloaded`) a signal
   * that waited too long for it rather than relay it late; strictly increasing, so that it also names one
   * signal in a `signal-undelivered` (performance.now() is coarsened to 0.1 ms). */
  #stamp() {
    this.#lastSentAt = Math.max(performance.now(), this.#lastSentAt + 0.001);
    return this.#lastSentAt;
  }

  /** Still the same link to the same peer, over the same connection: else the rejoin or the link's
   * replacement has sent what the peer needs under its new id. */
  #current({ link, to, sid }) {
    return link.peerId === to && !link.closed && this.#socket?.connected === true && this.#socket.id === sid;
  }

  /** The server did not relay a signal (its ack's error), or the target's instance read it too late and
   * dropped it (`signal-undelivered`): queued to be sent again if it is still worth sending. */
  #refused(sent, code) {
    const { link, to, type, body, attempt } = sent;
    if (code === 'peer_not_in_room') {
      if (this.#current(sent)) this.#close(link);
      return;
    }
    const retrying = RESENDABLE.has(code) && attempt < RESEND_DELAYS_MS.length && this.#current(sent) && this.#unsuperseded(link, type, body);
    this.#emit('signal-refused', { peerId: to, type, code, retrying });
    if (!retrying) return;
    link.resends.push(sent);
    if (link.resendTimer !== null) return;
    link.resendTimer = this.#later(() => {
      link.resendTimer = null;
      this.#resend(link);
    }, RESEND_DELAYS_MS[attempt] * (0.5 + Math.random()));
  }

  /** A link's refused signals, sent again in the order they were first sent. An offer or answer brings the
   * candidates sent after it along: they may have got through before it, where they are of no use. */
  #resend(link) {
    const queued = link.resends
      .filter((sent) => this.#current(sent) && this.#unsuperseded(link, sent.type, sent.body))
      .sort((a, b) => a.sentAt - b.sentAt);
    link.resends = [];
    const description = queued.find((sent) => sent.type !== 'ice-candidate');
    if (description) {
      this.#signal(link, description.type, description.body, description.attempt + 1);
      for (const candidate of link.trail) this.#signal(link, 'ice-candidate', candidate, description.attempt + 1);
    } else {
      for (const sent of queued) this.#signal(link, sent.type, sent.body, sent.attempt + 1);
    }
  }

  /** Whether an offer or answer sent earlier is still the link's latest one: a later one replaces it.
   * (By the message sent, not the SDP: Chromium appends candidates to `localDescription` as it gathers.) */
  #unsuperseded(link, type, body) {
    return type === 'ice-candidate' || link.described === body;
  }

  #onSignal({ from, fromUserId, type, payload }) {
    if (this.#status === 'ended' || typeof payload?.callId !== 'string') return;
    const { callId } = payload;
    let link = this.#links.get(from);
    if (link && link.callId !== null && link.callId !== callId) return;
    // The same remote call under an older peerId: it reconnected.
    const previous = [...this.#links.values()].find((l) => l !== link && l.callId === callId) ?? null;

    if (type === 'offer') {
      if (payload.fresh) {
        // A new connection from the other side replaces whatever we had with that call; and when both
        // sides offered a new connection at once (neither has heard from the other), the polite side
        // drops its own and answers. (Rolling back a new connection's offer instead can leave it
        // without any ICE candidate in Chromium: both ends then stay 'new'.)
        if (link && (link.callId === callId || (link.callId === null && this.#callId > callId))) {
          this.#close(link);
          link = null;
        }
        if (previous) this.#close(previous);
        link ??= this.#createLink(this.#known.get(from) ?? { peerId: from, userId: fromUserId });
      } else if (!link && previous) {
        this.#rekey(previous, from);
        link = previous;
      } else if (!link) {
        // A renegotiation of a connection we no longer have: ask for a fresh one.
        if (this.#socket?.connected) {
          const reset = { callId: this.#callId, reset: true };
          this.#socket.emit('signal', { to: from, type: 'answer', payload: reset, sentAt: this.#stamp() });
        }
        return;
      }
    } else {
      if (!link && previous) {
        this.#rekey(previous, from);
        link = previous;
      }
      if (!link) {
        // A candidate that overtook the offer it belongs to: kept for the connection that offer makes.
        if (type === 'ice-candidate') {
          const early = this.#early.get(from) ?? [];
          if (early.length < MAX_EARLY_CANDIDATES) early.push(payload.candidate);
          this.#early.set(from, early);
        }
        return;
      }
      if (link.callId === null && previous && previous !== link) this.#close(previous);
    }
    link.callId = callId;
    link.polite = this.#callId > callId;
    link.stale = false;
    this.#enqueue(link, () => this.#apply(link, type, payload));
  }

  async #apply(link, type, payload) {
    const { pc } = link;
    if (type === 'offer') {
      const collision = pc.signalingState !== 'stable';
      link.ignoreOffer = !link.polite && collision;
      if (link.ignoreOffer) return;
      await pc.setRemoteDescription(payload.description);
      // Our own transceivers that the offer did not take up (only addTrack's are reused) would show
      // up as extra m-lines in our next offer.
      for (const transceiver of pc.getTransceivers()) if (transceiver.mid === null && !transceiver.stopped) transceiver.stop();
      await this.#sendOnEveryTransceiver(pc);
      await this.#flushCandidates(link);
      await pc.setLocalDescription(await pc.createAnswer());
      this.#signal(link, 'answer', { description: pc.localDescription });
    } else if (type === 'answer') {
      if (payload.reset) {
        this.#replace(link);
        return;
      }
      if (pc.signalingState !== 'have-local-offer') return;
      try {
        await pc.setRemoteDescription(payload.description);
      } catch {
        this.#replace(link);
        return;
      }
      await this.#flushCandidates(link);
    } else if (type === 'ice-candidate') {
      if (!pc.remoteDescription) {
        // Arrived before the description it belongs to: applied once that is set.
        link.candidates.push(payload.candidate);
        return;
      }
      // One that does not fit belongs to an offer we ignored (both offered at once) or to an earlier
      // ICE generation: nothing to do about it.
      await pc.addIceCandidate(payload.candidate).catch(() => {});
    }
  }

  async #flushCandidates(link) {
    const pending = link.candidates.splice(0);
    for (const candidate of pending) await link.pc.addIceCandidate(candidate).catch(() => {});
  }

  /** Start over with a new connection to this peer (the other side lost its end). */
  #replace(link) {
    const peer = { peerId: link.peerId, userId: link.userId, displayName: link.displayName, role: link.role };
    this.#close(link);
    const fresh = this.#createLink(peer);
    this.#enqueue(fresh, () => this.#offer(fresh, { fresh: true }));
  }

  async #sendOnEveryTransceiver(pc) {
    for (const transceiver of pc.getTransceivers()) {
      if (transceiver.stopped || transceiver.sender.track) continue;
      const kind = transceiver.receiver.track.kind;
      const track = kind === 'audio' ? this.#localTracks('audio')[0] : this.#videoToSend();
      if (track) await transceiver.sender.replaceTrack(track);
      transceiver.direction = 'sendrecv';
    }
  }

  // -- local media --------------------------------------------------------------------------------

  #localTracks(kind) {
    const stream = this.#options.localStream;
    if (!stream) return [];
    return kind === 'audio' ? stream.getAudioTracks() : stream.getVideoTracks();
  }

  #cameraTrack() {
    return this.#localTracks('video')[0] ?? null;
  }

  #videoToSend() {
    return this.#screen ?? this.#cameraTrack();
  }

  async #sendVideo(track) {
    const senders = [];
    for (const { pc } of this.#links.values()) {
      for (const transceiver of pc.getTransceivers()) {
        if (!transceiver.stopped && transceiver.receiver.track.kind === 'video') senders.push(transceiver.sender);
      }
    }
    await Promise.all(senders.map((sender) => sender.replaceTrack(track)));
  }

  #stopOwnScreen() {
    if (this.#screen && this.#ownsScreen) this.#screen.stop();
  }

  // -- the access token ---------------------------------------------------------------------------

  #scheduleRenewal() {
    clearTimeout(this.#renewTimer);
    const claims = jwtClaims(this.#token);
    if (!this.#options.renewAccessToken || !claims?.exp) return;
    const life = claims.iat ? claims.exp - claims.iat : 4 * RENEW_MARGIN_S;
    const at = (claims.exp - Math.min(RENEW_MARGIN_S, life / 4)) * 1000;
    this.#renewTimer = setTimeout(() => this.#renew(), Math.max(0, at - Date.now()));
  }

  async #renew() {
    if (this.#status === 'ended') return;
    try {
      this.#token = await this.#options.renewAccessToken();
      if (this.#socket?.connected) await this.#call('refresh-token', { token: this.#token });
      this.#scheduleRenewal();
    } catch (error) {
      this.#emit('error', { error });
      // Keep trying while the old token lasts; when it runs out the server ends the call.
      this.#renewTimer = setTimeout(() => this.#renew(), 5 * RETRY_MS);
    }
  }

  // -- state --------------------------------------------------------------------------------------

  #end(reason, detail = {}) {
    if (this.#status === 'ended') return;
    this.#status = 'ended';
    this.#endedReason = reason;
    clearTimeout(this.#renewTimer);
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#unconfirmed.clear();
    for (const link of [...this.#links.values()]) this.#close(link);
    this.#stopOwnScreen();
    this.#socket?.disconnect();
    const error = detail.error ?? new MeshError(reason, `the call ended (${reason})`);
    this.#firstJoin?.reject(error);
    this.#firstJoin = null;
    this.#changed();
    this.#emit('ended', { ...detail, reason });
  }

  #setStatus(status) {
    if (this.#status === 'ended' || this.#status === status) return;
    this.#status = status;
    this.#changed();
  }

  #later(fn, ms) {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    this.#timers.add(timer);
    return timer;
  }

  #clearTimer(link, key) {
    if (link[key] === null) return;
    clearTimeout(link[key]);
    this.#timers.delete(link[key]);
    link[key] = null;
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  #changed() {
    this.#snapshot = this.#buildSnapshot();
    this.dispatchEvent(new Event('change'));
  }

  #buildSnapshot() {
    const audio = this.#localTracks('audio');
    const video = this.#localTracks('video');
    return Object.freeze({
      status: this.#status,
      endedReason: this.#endedReason,
      self: this.#self,
      peers: Object.freeze(
        [...this.#links.values()].map((link) =>
          Object.freeze({
            peerId: link.peerId,
            userId: link.userId,
            displayName: link.displayName,
            role: link.role,
            connectionState: link.pc.connectionState,
            stream: link.stream,
          }),
        ),
      ),
      audioEnabled: audio.some((track) => track.enabled),
      videoEnabled: video.some((track) => track.enabled),
      screenSharing: this.#screen !== null,
    });
  }
}

function parseUrl(value) {
  try {
    return new URL(value);
  } catch {
    return null;
  }
}

/** The access token's `exp` and `iat`, read without verifying (the server verifies). */
function jwtClaims(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part));
  } catch {
    return null;
  }
}
