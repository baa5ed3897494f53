/** Why a token failed the structural checks (kept internal: clients only see `invalid_token`). */
export class MalformedTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedTokenError';
  }
}
