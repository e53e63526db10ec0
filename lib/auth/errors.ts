// Authorization failures, mapped to 401/403 by the API wrapper and to messages by server actions.
export class AuthError extends Error {
  constructor(
    readonly code: 'unauthorized' | 'forbidden',
    message: string,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}
