import type { RegisteredCase } from '../case.ts';
import { cleanupCase } from './cleanup.ts';
import { loginCase } from './login.ts';
import { meCase } from './me.ts';
import { memoryCase } from './memory.ts';
import { refreshCase } from './refresh.ts';
import { revocationCase } from './revocation.ts';
import { verifyCase } from './verify.ts';

/** Every case, in the order `npm run bench` runs them and the page shows them. */
export const CASES: RegisteredCase[] = [
  verifyCase,
  meCase,
  refreshCase,
  loginCase,
  memoryCase,
  revocationCase,
  cleanupCase,
];
