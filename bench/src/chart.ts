import type { MeResult } from './cases/me.ts';
import type { VerifyResult } from './cases/verify.ts';
import { count } from './format.ts';

/** One horizontal bar. `highlight` marks Tessera's own rows. */
export interface Bar {
  label: string;
  value: number;
  highlight: boolean;
}

/** A titled group of bars drawn to its own scale (the groups' magnitudes differ tenfold). */
export interface Panel {
  title: string;
  bars: Bar[];
}

const WIDTH = 760;
const LABEL_WIDTH = 250;
const VALUE_WIDTH = 80;
const BAR_HEIGHT = 16;
const BAR_GAP = 4;
const TITLE_HEIGHT = 34;
const MARGIN = 16;

const escapeXml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * A plain SVG bar chart, no dependency: panels stacked vertically, each bar's length proportional
 * to its value within its panel, the value printed beside it.
 */
export function renderBarChart(title: string, notes: readonly string[], panels: readonly Panel[]): string {
  const parts: string[] = [];
  let y = MARGIN + 20;
  parts.push(`<text x="${MARGIN}" y="${y}" font-size="16" font-weight="bold">${escapeXml(title)}</text>`);
  for (const note of notes) {
    y += 16;
    parts.push(`<text x="${MARGIN}" y="${y}" font-size="11" fill="#555">${escapeXml(note)}</text>`);
  }
  y += 6;
  const barSpace = WIDTH - 2 * MARGIN - LABEL_WIDTH - VALUE_WIDTH;
  for (const panel of panels) {
    y += TITLE_HEIGHT;
    parts.push(
      `<text x="${MARGIN}" y="${y - 10}" font-size="13" font-weight="bold">${escapeXml(panel.title)}</text>`,
    );
    const max = Math.max(0, ...panel.bars.map((bar) => bar.value));
    for (const bar of panel.bars) {
      const length = max > 0 ? Math.max(1, (bar.value / max) * barSpace) : 0;
      const x = MARGIN + LABEL_WIDTH;
      const fill = bar.highlight ? '#1f6feb' : '#9aa4b2';
      parts.push(
        `<text x="${x - 6}" y="${y + BAR_HEIGHT - 4}" font-size="11" text-anchor="end"${bar.highlight ? ' font-weight="bold"' : ''}>${escapeXml(bar.label)}</text>`,
        `<rect x="${x}" y="${y}" width="${length.toFixed(1)}" height="${BAR_HEIGHT}" fill="${fill}"/>`,
        `<text x="${(x + length + 4).toFixed(1)}" y="${y + BAR_HEIGHT - 4}" font-size="11">${escapeXml(count(bar.value))}</text>`,
      );
      y += BAR_HEIGHT + BAR_GAP;
    }
  }
  const height = y + MARGIN;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">`,
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

/**
 * The headline comparisons of docs/benchmarks.md: verification per token (one in flight, per
 * algorithm, against the raw node:crypto limit and the libraries) and `GET /auth/me` against its
 * peers, Better Auth's `get-session` included. `undefined` when neither case has a full result.
 */
export function renderHeadlineChart(
  verify: { result: VerifyResult; startedAt: string } | undefined,
  me: { result: MeResult; startedAt: string } | undefined,
): string | undefined {
  const panels: Panel[] = [];
  if (verify) {
    const algs = [...new Set(verify.result.serial.map((row) => row.alg))];
    for (const alg of algs) {
      panels.push({
        title: `Verify one ${alg} token — ops/s, one in flight`,
        bars: verify.result.serial
          .filter((row) => row.alg === alg && !row.cache)
          .map((row) => ({
            label: row.name,
            value: row.opsPerSecond.median,
            highlight: row.name.startsWith('tessera'),
          })),
      });
    }
  }
  if (me) {
    panels.push({
      title: `Protected request (${me.result.alg}) — req/s, ${me.result.connections} connections`,
      bars: me.result.rows.map((row) => ({
        label: row.name,
        value: row.load.requestsPerSecond.median,
        highlight: row.name === 'tessera' || row.name.includes('tessera-verifier'),
      })),
    });
  }
  if (panels.length === 0) return undefined;
  const runs = [...new Set([verify?.startedAt, me?.startedAt].filter((run) => run !== undefined))];
  return renderBarChart(
    'Tessera benchmarks: headline comparisons',
    [
      "Medians, higher is better; each panel to its own scale; Tessera's rows in blue.",
      `Measured by the runs of ${runs.join(' and ')} (docs/benchmarks.md); reproduce: npm run bench -- verify me`,
    ],
    panels,
  );
}
