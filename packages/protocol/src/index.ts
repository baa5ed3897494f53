export { ERROR_CODES, isErrorCode, type ErrorBody, type ErrorCode } from './error-codes.ts';
export * from './errors.ts';
export { parseDuration } from './duration.ts';
