#!/usr/bin/env node
import { keysCommand } from './commands/keys.ts';
import { migrateCommand } from './commands/migrate.ts';
import { serveCommand } from './commands/serve.ts';
import { UnavailableError } from '@tessera/protocol';
import { UsageError } from './usage-error.ts';

const USAGE = `Usage: tessera <command>

Commands:
  serve                       start the auth server (configuration from TESSERA_* variables)
  migrate                     create or upgrade the database schema, then exit
  keys list                   list signing keys and their state
  keys rotate [--now]         publish the next signing key; it signs after the JWKS cache time
                              (${'5 minutes'}), or at once with --now

Exit codes: 0 success, 1 failure, 2 bad usage or configuration.`;

const commands: Record<string, (args: string[]) => Promise<number>> = {
  serve: serveCommand,
  migrate: migrateCommand,
  keys: keysCommand,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!command) {
    process.stderr.write(`tessera: unknown command "${name}"\n\n${USAGE}\n`);
    return 2;
  }
  try {
    return await command(args);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`tessera: ${error.message}\n`);
      return 2;
    }
    // The store did not answer: say which setting to check, not a stack trace. Exit 1.
    if (error instanceof UnavailableError) {
      const cause = error.cause instanceof Error ? error.cause.message : 'no answer';
      process.stderr.write(`tessera: cannot reach the database (TESSERA_DATABASE_URL): ${cause}\n`);
      return 1;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
