const UNIT_SECONDS = new Map<string, number>([
  ['', 1],
  ['s', 1],
  ['m', 60],
  ['h', 3600],
  ['d', 86400],
]);

const DURATION = /^(\d{1,9})([smhd]?)$/;

/**
 * Parses a duration as written in Tessera's configuration: `900`, `900s`, `15m`, `12h`, `7d`.
 * A bare number is seconds. Returns whole seconds, or `undefined` when the text is not a duration
 * (negative numbers, fractions, other units and surrounding junk are all refused).
 */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  const [, amount, unit] = match;
  const factor = UNIT_SECONDS.get(unit ?? '');
  if (amount === undefined || factor === undefined) return undefined;
  const seconds = Number(amount) * factor;
  return Number.isSafeInteger(seconds) ? seconds : undefined;
}
