#!/usr/bin/env node
import { keysCommand } from './commands/keys.ts';
import { migrateCommand } from './commands/migrate.ts';
import { serveCommand } from './commands/serve.ts';
import { sessionsCommand } from './commands/sessions.ts';
import { tokenCommand } from './commands/token.ts';
import { usersCommand } from './commands/users.ts';
import { TesseraError, UnavailableError } from '@tessera/protocol';
import { UsageError } from './usage-error.ts';

const USAGE = `Usage: tessera <command>

Commands:
  serve                       start the auth server (configuration from TESSERA_* variables)
  migrate                     create or upgrade the database schema, then exit
  keys list                   list signing keys and their state
  keys rotate [--now]         publish the next signing key; it signs after the JWKS cache time
                              (${'5 minutes'}), or at once with --now
  users create --email E [--role admin] [--name N] [--password-file F]
                              create an account (the first admin); password from stdin or file
  users list [--query Q] [--limit N] [--cursor C] [--all]
                              list users, newest first, a page at a time (--all: every page)
  users set-role <id|email> <user|admin>
  users disable <id|email>    refuse logins and revoke every session; users enable undoes it
  sessions list <id|email>    a user's live sessions
  sessions revoke <session>   end one session everywhere
  token decode <jwt>          print header and claims, UNVERIFIED
  token verify <jwt>          verify with the configured keys: valid, expired, revoked or invalid

\`tessera <command> --help\` describes a command.

Exit codes: 0 success, 1 failure (refused, not found, invalid token, database unreachable),
2 bad usage or configuration.`;

const commands: Record<string, (args: string[]) => Promise<number>> = {
  serve: serveCommand,
  migrate: migrateCommand,
  keys: keysCommand,
  users: usersCommand,
  sessions: sessionsCommand,
  token: tokenCommand,
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
    // Refused by Tessera's own rules (no such user, a weak password, the last admin): exit 1.
    if (error instanceof TesseraError) {
      process.stderr.write(`tessera: ${error.message} (${error.code})\n`);
      return 1;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
