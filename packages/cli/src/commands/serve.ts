import { serve } from '@tessera/server';

/** `tessera serve`: runs until SIGTERM or SIGINT. */
export async function serveCommand(args: string[]): Promise<number> {
  if (args.length > 0) {
    process.stderr.write('tessera serve takes no arguments; configure it with TESSERA_* variables\n');
    return 2;
  }
  await serve();
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}
