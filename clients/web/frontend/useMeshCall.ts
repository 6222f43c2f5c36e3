// src/hooks/useMeshCall.ts
import { useEffect, useState, useSyncExternalStore } from 'react';
import { io } from 'socket.io-client';
import { MeshCall, type MeshSnapshot } from '@/lib/mesh/mesh.js';
import { getTokens, setTokens } from '@/lib/api';

const API = process.env.NEXT_PUBLIC_API_URL!;
const IDLE: MeshSnapshot = { status: 'idle', endedReason: null, self: null, peers: [], audioEnabled: false, videoEnabled: false, screenSharing: false };
const noCall = { subscribe: () => () => {}, getSnapshot: () => IDLE };

async function renewAccessToken(): Promise<string> {
  const response = await fetch(`${API}/api/v1/auth/refresh`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ refreshToken: getTokens().refreshToken }),
  });
  if (!response.ok) throw new Error(`token refresh answered ${response.status}`);
  const tokens = await response.json();
  setTokens(tokens.accessToken, tokens.refreshToken);
  return tokens.accessToken;
}

export function useMeshCall(meetingId: string, localStream: MediaStream | null, accessCode?: string) {
  const [call, setCall] = useState<MeshCall | null>(null);
  useEffect(() => {
    if (!localStream) return;
    const created = new MeshCall({ apiUrl: API, meetingId, accessCode, localStream, io, renewAccessToken, accessToken: getTokens().accessToken! });
    setCall(created);
    created.join().catch(() => {}); // a failed join shows as status 'ended', endedReason 'error'
    return () => created.leave();
  }, [meetingId, localStream, accessCode]);
  const snapshot = useSyncExternalStore((call ?? noCall).subscribe, (call ?? noCall).getSnapshot, () => IDLE);
  return { ...snapshot, call };
}
