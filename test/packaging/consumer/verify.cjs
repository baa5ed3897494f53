'use strict';
// require() of the ESM-only packages: Node ^20.19 and >= 22.12 load them synchronously.
const { createClient, memoryStorage } = require('@tessera/client');
const { createVerifier, InvalidTokenError } = require('@tessera/verifier');
const check = require('./check.cjs');

check({ createClient, memoryStorage, createVerifier, InvalidTokenError }, 'require').then(
  (result) => console.log(JSON.stringify(result)),
  (error) => {
    console.error(error);
    process.exitCode = 1;
  },
);
