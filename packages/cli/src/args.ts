import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { UsageError } from './usage-error.ts';

/**
 * `parseArgs` for one command with exactly `count` positionals: an unknown option, a missing value
 * or a wrong number of arguments is a usage error (exit 2) that shows the command's usage.
 */
export function parseCommand<O extends ParseArgsOptionsConfig>(
  args: string[],
  options: O,
  count: number,
  usage: string,
) {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${usage}`);
  }
  if (parsed.positionals.length !== count) throw new UsageError(usage);
  return parsed;
}

/** Whether the command was asked for its help (`--help` or `-h` anywhere). */
export function wantsHelp(args: string[]): boolean {
  return args.includes('--help') || args.includes('-h');
}
