import type { Summary } from './stats.ts';

/** `12,345` — thousands separated, no decimals. */
export function count(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** `0.93×`, or `—` without a baseline. */
export function times(value: number | undefined): string {
  return value === undefined ? '—' : `${value.toFixed(2)}×`;
}

/** `±4 %`: the spread of the runs around their median. */
export function spread(summary: Summary): string {
  return `±${Math.round((summary.spread * 100) / 2)} %`;
}

/** Milliseconds with a sensible number of digits. */
export function ms(value: number): string {
  return value < 10 ? value.toFixed(2) : value.toFixed(1);
}

/** A Markdown table. */
export function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}
