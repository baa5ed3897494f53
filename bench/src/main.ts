import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { CaseContext } from './case.ts';
import { CASES } from './cases/index.ts';
import { describeMachine } from './machine.ts';
import { renderChart, renderPage } from './report.ts';
import { latestRecords, saveRun, type RunRecord } from './results.ts';

/**
 * `npm run bench [-- [--quick] [case…]]` (`-- --report` only regenerates the page): runs the named cases (all by default) in order, writes
 * the run's JSON under bench/results/, and — for a full run — regenerates docs/benchmarks.md from
 * the latest full result of every case. A quick run only proves the harness works and changes no
 * page. Any failure exits non-zero, which is what CI checks.
 */
async function main(argv: string[]): Promise<void> {
  if (argv.includes('--report')) {
    // Regenerates the page from stored results, measuring nothing (after editing the prose).
    writePage();
    return;
  }
  const quick = argv.includes('--quick');
  const names = argv.filter((arg) => !arg.startsWith('--'));
  const unknown = names.filter((name) => !CASES.some((benchCase) => benchCase.name === name));
  if (unknown.length > 0) {
    throw new Error(`unknown case ${unknown.join(', ')}; known: ${CASES.map((c) => c.name).join(', ')}`);
  }
  const selected = names.length === 0 ? CASES : CASES.filter((benchCase) => names.includes(benchCase.name));
  const context: CaseContext = { quick, log: (line) => process.stderr.write(`${line}\n`) };
  const run: RunRecord = {
    startedAt: new Date().toISOString(),
    quick,
    command: ['npm run bench', ...(argv.length > 0 ? ['--', ...argv] : [])].join(' '),
    machine: describeMachine(),
    cases: [],
  };
  for (const benchCase of selected) {
    context.log(`== ${benchCase.name}: ${benchCase.title}${quick ? ' (quick)' : ''}`);
    const startedAt = new Date().toISOString();
    const start = performance.now();
    const result = await benchCase.run(context);
    run.cases.push({
      name: benchCase.name,
      startedAt,
      durationSeconds: (performance.now() - start) / 1000,
      result,
    });
    // Saved after every case, so a failure late in a long run keeps what was measured before it.
    saveRun(run);
  }
  const file = saveRun(run);
  context.log(`results: ${file}`);
  if (!quick) context.log(`page: ${writePage()}`);
}

/** Writes docs/benchmarks.md and its chart, docs/benchmarks.svg, from the stored full results. */
function writePage(): string {
  const docs = join(import.meta.dirname, '..', '..', 'docs');
  const latest = latestRecords();
  const chart = renderChart(latest);
  if (chart !== undefined) writeFileSync(join(docs, 'benchmarks.svg'), chart);
  const page = join(docs, 'benchmarks.md');
  writeFileSync(page, renderPage(CASES, latest));
  return page;
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
