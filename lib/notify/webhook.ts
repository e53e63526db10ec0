// Slack-compatible webhook (STRATA_WEBHOOK_URL): a JSON body `{"text": …}`. Best effort: a webhook
// that is down must not stop backups, so failures are logged, not thrown.
import type { Logger } from 'pino';

export async function postWebhook(url: string | undefined, text: string, log?: Logger): Promise<boolean> {
  if (!url) return false;
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) log?.warn({ status: res.status }, 'webhook answered with an error');
    return res.ok;
  } catch (err) {
    // The URL is a secret (Slack puts the token in it): log the failure, never the URL.
    log?.warn({ err: err instanceof Error ? err.message : String(err) }, 'webhook could not be reached');
    return false;
  }
}
