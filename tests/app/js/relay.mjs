// Drives the official socket.io-client against two API instances, the way the ChatVista frontend
// connects (websocket transport, JWT in auth.token): join, relay offer/answer/ICE, leave.
// Usage: node relay.mjs <urlA> <urlB> <hostToken> <guestToken> <meetingId>
// Prints one JSON document with what each side received; exits 1 with a message on any failure.
import { io } from "socket.io-client";

const [urlA, urlB, hostToken, guestToken, meetingId] = process.argv.slice(2);
const TIMEOUT = 5000;

function connect(url, token) {
  const socket = io(url, { auth: { token }, transports: ["websocket"], reconnection: false });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (err) => reject(new Error(`connect to ${url} failed: ${err.message}`)));
  });
}

function next(socket, event) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${TIMEOUT} ms`)), TIMEOUT);
    socket.once(event, (data) => {
      clearTimeout(timer);
      resolve(data);
    });
  });
}

async function call(socket, event, data) {
  const reply = await socket.timeout(TIMEOUT).emitWithAck(event, data);
  if (!reply || reply.error) {
    throw new Error(`${event} refused: ${JSON.stringify(reply)}`);
  }
  return reply;
}

async function main() {
  const host = await connect(urlA, hostToken);
  const guest = await connect(urlB, guestToken);
  try {
    const hostJoin = await call(host, "join-room", { meetingId });
    const peerJoined = next(host, "peer-joined");
    const guestJoin = await call(guest, "join-room", { meetingId });

    const offerAtHost = next(host, "signal");
    await call(guest, "signal", { to: host.id, type: "offer", payload: { type: "offer", sdp: "v=0 js-offer" } });
    const offer = await offerAtHost;

    const answerAtGuest = next(guest, "signal");
    await call(host, "signal", { to: guest.id, type: "answer", payload: { type: "answer", sdp: "v=0 js-answer" } });
    const answer = await answerAtGuest;

    const candidate = { candidate: "candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host", sdpMid: "0", sdpMLineIndex: 0 };
    const iceAtHost = next(host, "signal");
    await call(guest, "signal", { to: host.id, type: "ice-candidate", payload: candidate });
    const ice = await iceAtHost;

    const peerLeft = next(host, "peer-left");
    await call(guest, "leave-room");
    const left = await peerLeft;

    console.log(
      JSON.stringify({
        hostPeerId: host.id,
        guestPeerId: guest.id,
        hostJoin,
        guestJoin,
        peerJoined: await peerJoined,
        offer,
        answer,
        ice,
        left,
      }),
    );
  } finally {
    host.disconnect();
    guest.disconnect();
  }
}

main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
