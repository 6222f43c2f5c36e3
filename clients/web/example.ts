// How an application uses the client; `npm run check` compiles it against mesh.d.ts and socket.io-client's
// own types, so the declarations cannot drift from what callers write.
import { io } from 'socket.io-client';
import { MeshCall, MeshError, type MeshSnapshot } from './mesh.js';

export async function startCall(apiUrl: string, meetingId: string, accessToken: string, renew: () => Promise<string>) {
  const localStream = await navigator.mediaDevices.getUserMedia({
    audio: true,
    video: { width: 320, height: 240, frameRate: 15 },
  });
  const call = new MeshCall({ apiUrl, meetingId, accessToken, io, localStream, renewAccessToken: renew, accessCode: 'ABC123' });
  const unsubscribe = call.subscribe(() => render(call.getSnapshot()));
  call.addEventListener('ended', (event) => {
    unsubscribe();
    console.info(`call ended: ${event.detail.reason}`, event.detail.notice);
  });
  call.addEventListener('chat-message', (event) => console.info(`${event.detail.senderName}: ${event.detail.content}`));
  try {
    await call.join();
  } catch (error) {
    if (error instanceof MeshError && error.code === 'not_participant') console.warn(error.message);
    throw error;
  }
  call.setAudioEnabled(false);
  await call.shareScreen();
  await call.send('chat-message', { content: 'hello' });
  const first = call.getSnapshot().peers[0];
  const stats = first ? await call.peerConnection(first.peerId)?.getStats() : undefined;
  return { call, stats };
}

function render(snapshot: MeshSnapshot): void {
  for (const peer of snapshot.peers) {
    console.info(peer.displayName ?? peer.userId, peer.connectionState, peer.stream.getTracks().length);
  }
}
