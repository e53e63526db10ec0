// B2 answers every failure with `{status, code, message}` and the same HTTP status; clients
// (rclone, backblaze-b2, b2sdk) branch on `code`, so the codes below are the ones B2 uses.

export class B2Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'B2Error';
  }

  toJSON(): { status: number; code: string; message: string } {
    return { status: this.status, code: this.code, message: this.message };
  }
}

export const badRequest = (message: string): B2Error => new B2Error(400, 'bad_request', message);
export const badAuthToken = (message = 'Invalid authorization token'): B2Error => new B2Error(401, 'bad_auth_token', message);
export const expiredAuthToken = (): B2Error => new B2Error(401, 'expired_auth_token', 'Authorization token has expired');
export const unauthorized = (message: string): B2Error => new B2Error(401, 'unauthorized', message);
export const notFound = (message: string): B2Error => new B2Error(404, 'not_found', message);
export const serviceUnavailable = (): B2Error => new B2Error(503, 'service_unavailable', 'c001_v0001000_t0000 is too busy');
