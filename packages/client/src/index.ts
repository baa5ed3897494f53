export { createClient, TesseraClient, type ClientOptions } from './client.ts';
export type { ClientEvents } from './refresher.ts';
export type { MfaStatus, SessionInfo, TotpEnrolment, User } from './grant.ts';
export {
  memoryStorage,
  sessionStorageAdapter,
  localStorageAdapter,
  type TokenSet,
  type TokenStorage,
  type StorageLike,
} from './storage.ts';
export {
  createCrossTab,
  type CrossTabOptions,
  type EndReason,
  type LockManagerLike,
  type TabCoordinator,
  type TabMessage,
} from './cross-tab.ts';
export { systemClock, type Clock } from './clock.ts';
export { TesseraRequestError } from './errors.ts';
export type { Listener } from './emitter.ts';
