/** What every benchmark case receives from the runner. */
export interface CaseContext {
  /** Short runs that only prove the harness works (CI); their numbers mean nothing. */
  quick: boolean;
  /** Progress for the terminal (stderr), never part of the results. */
  log: (line: string) => void;
}

/**
 * One benchmark case: measures, and renders its own section of docs/benchmarks.md from the JSON it
 * produced, so the page can be regenerated from stored results without measuring again.
 */
export interface BenchCase<Result> {
  name: string;
  title: string;
  /** The command that reproduces this case alone. */
  command: string;
  run(context: CaseContext): Promise<Result>;
  render(result: Result): string;
}

/** A case as the runner holds it: its result is only JSON to store and hand back to `render`. */
export interface RegisteredCase {
  name: string;
  title: string;
  command: string;
  run(context: CaseContext): Promise<unknown>;
  render(result: unknown): string;
}

/**
 * Erases a case's result type for the registry. `render` only ever receives what this case's own
 * `run` produced (read back from its JSON file), so the cast restores the truth.
 */
export function defineCase<Result>(benchCase: BenchCase<Result>): RegisteredCase {
  return { ...benchCase, render: (result) => benchCase.render(result as Result) };
}
