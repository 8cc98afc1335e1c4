import type { Principal } from '../auth/api-key.service.js';

/** What the middleware chain keeps on `ctx.state`. */
export interface AppState {
  requestId: string;
  /** Set by the authentication middleware on every /v1 request. */
  principal?: Principal;
}
