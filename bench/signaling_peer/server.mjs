// The Node peer of bench/signaling_latency.py: a minimal socket.io 4 relay of `join-room`, `signal` and
// `peer-left` across instances through @socket.io/redis-adapter, doing per message the work the
// ChatVista API's signaling does (app/chatvista_api/signaling): the JWT verified at connect, a frame
// budget and a per-event token bucket, the payload validated, the target's presence checked in the
// room's sorted set (ZSCORE, remembered for 2 s unless its peer-left comes first, as the API does) and
// one PUBLISH. There is no database: join-room admits any meeting id.
//
//   PORT=8100 REDIS_URL=redis://127.0.0.1:6379/0 JWT_SECRET=... node server.mjs

import { createServer } from "node:http";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";
import jwt from "jsonwebtoken";

const PORT = Number(process.env.PORT ?? 8100);
const PREFIX = process.env.REDIS_KEY_PREFIX ?? "chatvista:signaling";
const SECRET = process.env.JWT_SECRET;
const TTL_MS = 15_000;
const SEEN_MS = 2_000;
const MAX_SIGNAL_PAYLOAD_BYTES = 64 * 1024;
const MAX_SIGNAL_WAIT_MS = 1_000;
const SIGNAL_TYPES = new Set(["offer", "answer", "ice-candidate"]);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

class TokenBucket {
  constructor(capacity, rate) {
    this.capacity = capacity;
    this.rate = rate;
    this.tokens = capacity;
    this.updated = performance.now() / 1000;
  }
  take() {
    const now = performance.now() / 1000;
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.updated) * this.rate);
    this.updated = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }
}

const denied = (code, message) => ({ error: { code, message, details: null } });
const roomKey = (meetingId) => `${PREFIX}:room:${meetingId}`;
const peerKey = (peerId) => `${PREFIX}:peer:${peerId}`;

const pub = createClient({ url: process.env.REDIS_URL });
const sub = pub.duplicate();
await Promise.all([pub.connect(), sub.connect()]);

const http = createServer();
const io = new Server(http, {
  transports: ["websocket"],
  maxHttpBufferSize: 128 * 1024,
  adapter: createAdapter(pub, sub, { key: PREFIX }),
});

const local = new Map(); // peer id -> peer, for this instance's joined sockets
const seen = new Map(); // other instances' peers found in Redis: peer id -> [meeting id, until]

io.use((socket, next) => {
  const token = socket.handshake.auth?.token;
  try {
    const claims = jwt.verify(token, SECRET, {
      algorithms: ["HS256"],
      audience: "chatvista",
      issuer: "chatvista-api",
    });
    socket.data.userId = claims.sub;
    next();
  } catch {
    const refusal = new Error("unauthorized");
    refusal.data = { code: "unauthorized" };
    next(refusal);
  }
});

async function writePeers(peers) {
  if (peers.length === 0) return;
  const expires = (Date.now() + TTL_MS) / 1000;
  const multi = pub.multi();
  for (const peer of peers) {
    multi.set(peerKey(peer.peerId), JSON.stringify(peer), { PX: TTL_MS });
    multi.zAdd(roomKey(peer.meetingId), { score: expires, value: peer.peerId });
    multi.pExpire(roomKey(peer.meetingId), TTL_MS);
  }
  await multi.execAsPipeline();
}

setInterval(() => writePeers([...local.values()]).catch(() => {}), TTL_MS / 3);

async function containsPeer(meetingId, peerId) {
  if (local.get(peerId)?.meetingId === meetingId) return true;
  const now = Date.now();
  const found = seen.get(peerId);
  if (found && found[0] === meetingId && found[1] >= now) return true;
  const expires = await pub.zScore(roomKey(meetingId), peerId);
  if (expires === null || expires * 1000 < now) return false;
  seen.set(peerId, [meetingId, Math.min(expires * 1000, now + SEEN_MS)]);
  return true;
}

io.on("connection", (socket) => {
  const frames = new TokenBucket(400, 100);
  const signals = new TokenBucket(200, 50);
  const control = new TokenBucket(5, 0.5);
  let peer = null;
  let quickestMs = Infinity; // the API's SignalWait: the smallest (now - sentAt) seen on this connection

  socket.use((_packet, next) => (frames.take() ? next() : socket.disconnect(true)));

  socket.on("join-room", async (data, ack) => {
    if (typeof ack !== "function") return;
    if (!control.take()) return ack(denied("rate_limited", "too many messages on this connection; slow down"));
    if (!data || typeof data.meetingId !== "string" || !UUID.test(data.meetingId)) {
      return ack(denied("invalid_payload", "meetingId: Input should be a valid UUID"));
    }
    const meetingId = data.meetingId.toLowerCase();
    if (peer === null) {
      peer = { peerId: socket.id, meetingId, userId: socket.data.userId, displayName: "", role: "participant" };
      local.set(socket.id, peer);
      await writePeers([peer]);
      socket.join(`meeting:${meetingId}`);
      socket.to(`meeting:${meetingId}`).emit("peer-joined", peer);
    }
    const ids = await pub.zRangeByScore(roomKey(meetingId), Date.now() / 1000, "+inf");
    const others = ids.filter((id) => id !== socket.id);
    const raw = others.length ? await pub.mGet(others.map(peerKey)) : [];
    const peers = raw.filter((item) => item !== null).map((item) => JSON.parse(item));
    ack({ ok: true, meetingId, self: peer, peers });
  });

  socket.on("signal", async (data, ack) => {
    const reply = typeof ack === "function" ? ack : () => {};
    if (!signals.take()) return reply(denied("rate_limited", "too many messages on this connection; slow down"));
    if (
      !data ||
      typeof data.to !== "string" ||
      data.to.length < 1 ||
      data.to.length > 64 ||
      !SIGNAL_TYPES.has(data.type)
    ) {
      return reply(denied("invalid_payload", "to, type: invalid"));
    }
    if (peer === null) return reply(denied("not_in_room", "join a meeting room first (join-room)"));
    if (data.sentAt !== undefined && data.sentAt !== null) {
      if (typeof data.sentAt !== "number" || !Number.isFinite(data.sentAt) || data.sentAt < 0) {
        return reply(denied("invalid_payload", "sentAt: Input should be a finite number"));
      }
      const offsetMs = performance.now() - data.sentAt;
      quickestMs = Math.min(quickestMs, offsetMs);
      if (offsetMs - quickestMs > MAX_SIGNAL_WAIT_MS) {
        return reply(denied("overloaded", "this server is too busy to relay that now; retry shortly"));
      }
    }
    const payload = data.payload ?? null;
    if (Buffer.byteLength(JSON.stringify(payload)) > MAX_SIGNAL_PAYLOAD_BYTES) {
      return reply(denied("payload_too_large", `signal payloads are limited to ${MAX_SIGNAL_PAYLOAD_BYTES} bytes`));
    }
    if (data.to === socket.id || !(await containsPeer(peer.meetingId, data.to))) {
      return reply(denied("peer_not_in_room", "the target peer is not in this meeting room"));
    }
    io.to(data.to).emit("signal", { from: socket.id, fromUserId: peer.userId, type: data.type, payload });
    reply({ ok: true });
  });

  socket.on("disconnect", async () => {
    if (peer === null) return;
    const left = peer;
    peer = null;
    local.delete(left.peerId);
    await pub.multi().zRem(roomKey(left.meetingId), left.peerId).del(peerKey(left.peerId)).execAsPipeline();
    io.to(`meeting:${left.meetingId}`).emit("peer-left", { peerId: left.peerId, userId: left.userId });
    io.serverSideEmit("forget", left.peerId);
  });
});

// Every instance forgets a departed peer, as the API's instances do on hearing its peer-left.
io.on("forget", (peerId) => seen.delete(peerId));

http.listen(PORT, "127.0.0.1", () => console.log(`signaling peer on ${PORT}`));
