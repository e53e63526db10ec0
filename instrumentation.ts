// Runs once when a Next.js server process starts (Node.js runtime only): lets sign-in know the
// socket's address (lib/auth/peer.ts), which Next.js does not expose to route handlers.
export async function register() {
  if (process.env.NEXT_RUNTIME === 'nodejs') {
    const { installPeerStamp } = await import('./lib/auth/peer.ts');
    installPeerStamp();
  }
}
