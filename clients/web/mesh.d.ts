// Types for mesh.js, the ChatVista mesh call client. Protocol and usage: docs/signaling.md.

/** The subset of socket.io-client's Socket that MeshCall uses. */
export interface MeshSocket {
  readonly connected: boolean;
  readonly active: boolean;
  on(event: string, listener: (...args: any[]) => void): unknown;
  emit(event: string, ...args: any[]): unknown;
  timeout(ms: number): { emit(event: string, ...args: any[]): unknown };
  connect(): unknown;
  disconnect(): unknown;
}

/** socket.io-client's `io`. */
export type MeshIo = (
  uri: string,
  options: {
    transports: string[];
    auth: (send: (data: { token: string }) => void) => void;
    reconnectionDelayMax: number;
  },
) => MeshSocket;

export interface MeshCallOptions {
  /** The bare backend origin (NEXT_PUBLIC_API_URL), e.g. https://api.example.com: no path. */
  apiUrl: string;
  meetingId: string;
  /** The current access token (JWT) of the logged-in user. */
  accessToken: string;
  /** socket.io-client's `io`. */
  io: MeshIo;
  /** Required of everyone but the host (POST /meetings/{id}/join). */
  accessCode?: string;
  /** Camera and microphone to send; without it the call only receives. The caller keeps ownership. */
  localStream?: MediaStream | null;
  /** Returns a new access token (e.g. through POST /auth/refresh). Called shortly before the current
   * one expires, and when a request or reconnect is refused as unauthorized. Without it the server
   * ends the call with `session-expired` when the token expires. */
  renewAccessToken?: () => Promise<string>;
  /** 'relay' sends all media through TURN. */
  iceTransportPolicy?: RTCIceTransportPolicy;
  fetch?: typeof fetch;
}

export type MeshStatus = 'idle' | 'connecting' | 'joining' | 'joined' | 'reconnecting' | 'ended';

export type MeshEndedReason =
  | 'left'
  | 'meeting-ended'
  | 'session-ended'
  | 'session-expired'
  | 'removed'
  | 'unauthorized'
  | 'disconnected'
  | 'error';

export interface MeshPeerInfo {
  peerId: string;
  userId: string;
  displayName: string | null;
  role: string | null;
}

export interface MeshPeer extends MeshPeerInfo {
  connectionState: RTCPeerConnectionState;
  /** The peer's audio and video; tracks are added as they arrive. */
  stream: MediaStream;
}

export interface MeshSnapshot {
  readonly status: MeshStatus;
  readonly endedReason: MeshEndedReason | null;
  readonly self: MeshPeerInfo | null;
  readonly peers: readonly MeshPeer[];
  readonly audioEnabled: boolean;
  readonly videoEnabled: boolean;
  readonly screenSharing: boolean;
}

export interface MeshEndedDetail {
  reason: MeshEndedReason;
  /** What the server said: `meeting-ended` {meetingId, reason: 'ended' | 'deleted'}, `session-ended` and
   * `session-expired` {reason}, or `participant-removed` {peerId, userId, by}. */
  notice?: Record<string, unknown>;
  /** With 'error' and 'unauthorized': what failed (a MeshError for the API's refusals). */
  error?: unknown;
}

export interface ChatMessage {
  id: string;
  meetingId: string;
  senderId: string;
  senderPeerId: string;
  senderName: string;
  content: string;
  timestamp: string;
}

export interface MeshEventMap {
  change: Event;
  ended: CustomEvent<MeshEndedDetail>;
  error: CustomEvent<{ error: unknown; peerId?: string }>;
  'ice-error': CustomEvent<{ peerId: string; url: string; errorCode: number; errorText: string }>;
  /** The server refused a signal without relaying it; `retrying`: the client sends it again shortly. */
  'signal-refused': CustomEvent<{
    peerId: string;
    type: 'offer' | 'answer' | 'ice-candidate';
    code: string;
    retrying: boolean;
  }>;
  'chat-message': CustomEvent<ChatMessage>;
  'raise-hand': CustomEvent<{ peerId: string; userId: string; raised: boolean }>;
  reaction: CustomEvent<{ peerId: string; userId: string; emoji: string }>;
  'participant-muted': CustomEvent<{ peerId: string; userId: string; kind: 'audio' | 'video'; by: string }>;
  'participant-removed': CustomEvent<{ peerId: string; userId: string; by: string }>;
}

export class MeshError extends Error {
  readonly code: string;
  readonly status: number | null;
  readonly details: unknown;
  constructor(code: string, message: string, extra?: { status?: number | null; details?: unknown });
}

export class MeshCall extends EventTarget {
  constructor(options: MeshCallOptions);
  /** For React's useSyncExternalStore: `useSyncExternalStore(call.subscribe, call.getSnapshot)`. */
  readonly subscribe: (listener: () => void) => () => void;
  readonly getSnapshot: () => MeshSnapshot;
  join(): Promise<MeshSnapshot>;
  leave(): void;
  setAudioEnabled(enabled: boolean): void;
  setVideoEnabled(enabled: boolean): void;
  shareScreen(stream?: MediaStream): Promise<void>;
  stopScreenShare(): Promise<void>;
  restartIce(): Promise<void>;
  peerConnection(peerId: string): RTCPeerConnection | undefined;
  send(event: 'chat-message', data: { content: string }): Promise<{ ok: true; id: string }>;
  send(event: 'raise-hand', data: { raised: boolean }): Promise<{ ok: true }>;
  send(event: 'reaction', data: { emoji: string }): Promise<{ ok: true }>;
  send(event: 'mute-participant', data: { peerId: string; kind: 'audio' | 'video' }): Promise<{ ok: true }>;
  send(event: 'remove-participant', data: { peerId: string }): Promise<{ ok: true }>;
  addEventListener<K extends keyof MeshEventMap>(
    type: K,
    listener: (event: MeshEventMap[K]) => void,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof MeshEventMap>(
    type: K,
    listener: (event: MeshEventMap[K]) => void,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void;
}
