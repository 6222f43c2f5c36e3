// What useMeshCall.ts uses of the ChatVista frontend: its token store (src/lib/api.ts, as declared there)
// and the environment Next.js inlines (NEXT_PUBLIC_API_URL).
declare module '@/lib/api' {
  export function getTokens(): { accessToken: string | null; refreshToken: string | null };
  export function setTokens(access: string, refresh: string): void;
}

declare const process: { env: Record<string, string | undefined> };
