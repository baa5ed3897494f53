import { createClient, memoryStorage } from '@tessera/client';
import { createVerifier, InvalidTokenError } from '@tessera/verifier';
import check from './check.cjs';

const result = await check({ createClient, memoryStorage, createVerifier, InvalidTokenError }, 'import');
console.log(JSON.stringify(result));
