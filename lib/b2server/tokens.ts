// Authorization tokens live in memory only: after a restart clients get 401 bad_auth_token and
// re-authorize, as they must on real B2 when a token lapses.
import { randomBytes } from 'node:crypto';
import { badAuthToken, expiredAuthToken } from './errors.ts';

export type Token =
  | { kind: 'account'; expired: boolean }
  /** Valid only at the upload URL it was issued with (`b2_get_upload_url` / `b2_get_upload_part_url`). */
  | { kind: 'upload'; expired: boolean; uploadUrlId: string };

export class Tokens {
  private readonly tokens = new Map<string, Token>();

  issueAccountToken(): string {
    const token = `4_${randomBytes(20).toString('hex')}`;
    this.tokens.set(token, { kind: 'account', expired: false });
    return token;
  }

  issueUploadToken(): { token: string; uploadUrlId: string } {
    const token = `4_u${randomBytes(20).toString('hex')}`;
    const uploadUrlId = randomBytes(8).toString('hex');
    this.tokens.set(token, { kind: 'upload', expired: false, uploadUrlId });
    return { token, uploadUrlId };
  }

  /** Throws 401 bad_auth_token / expired_auth_token unless `value` is a live account token. */
  checkAccount(value: string | undefined): void {
    const token = this.lookup(value);
    if (token.kind !== 'account') throw badAuthToken();
  }

  /** Throws unless `value` is a live upload token issued for `uploadUrlId`. */
  checkUpload(value: string | undefined, uploadUrlId: string): void {
    const token = this.lookup(value);
    if (token.kind !== 'upload' || token.uploadUrlId !== uploadUrlId) throw badAuthToken('Invalid upload authorization token for this URL');
  }

  /** Every token issued so far answers 401 expired_auth_token from now on. */
  expireAll(): void {
    for (const token of this.tokens.values()) token.expired = true;
  }

  private lookup(value: string | undefined): Token {
    if (!value) throw badAuthToken('Missing Authorization header');
    const token = this.tokens.get(value);
    if (!token) throw badAuthToken();
    if (token.expired) throw expiredAuthToken();
    return token;
  }
}
