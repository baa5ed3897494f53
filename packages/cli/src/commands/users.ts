import { Administration, CLI_ACTOR, MAX_PAGE_SIZE, PasswordHasher, type UserRecord } from '@tessera/server';
import { parseCommand, wantsHelp } from '../args.ts';
import { openConfiguredStore } from '../open.ts';
import { readPassword } from '../password-input.ts';
import { UsageError } from '../usage-error.ts';
import { encodeUserCursor, parseCursorOption } from '../user-cursor.ts';

const DEFAULT_PAGE_SIZE = 50;
const LIST_USAGE =
  'usage: tessera users list [--query <email prefix>] [--limit <n>] [--cursor <cursor>] [--all]';

export const USERS_USAGE = `Usage: tessera users <action>

  users create --email <email> [--role user|admin] [--name <name>] [--password-file <file>]
        Create an account (this is how the first admin is made). The password is read from
        --password-file, else from stdin: typed at a prompt without echo, or piped. Never argv.
  users list [--query <email prefix>] [--limit <n>] [--cursor <cursor>] [--all]
        Newest first, one page of --limit users (1 to ${MAX_PAGE_SIZE}, default ${DEFAULT_PAGE_SIZE}). When more
        follow, the last line ends "(more: --cursor <cursor>)": pass it to get the next page (the
        same cursor as "next" in GET /admin/users). --all prints every page from there on (pages
        of ${MAX_PAGE_SIZE} unless --limit), with progress on stderr.
  users set-role <id|email> user|admin
  users disable <id|email>    Refuse logins and revoke every session at once.
  users enable <id|email>     Allow logins again (revoked sessions stay revoked).

Every change is recorded in the audit log with the actor "cli".`;

/** `tessera users …`: accounts, roles and status, from the shell, against the configured store. */
export async function usersCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action === undefined || wantsHelp(args)) {
    process.stdout.write(`${USERS_USAGE}\n`);
    return action === undefined ? 2 : 0;
  }
  switch (action) {
    case 'create':
      return create(rest);
    case 'list':
      return list(rest);
    case 'set-role':
      return setRole(rest);
    case 'disable':
    case 'enable':
      return setDisabled(rest, action === 'disable');
    default:
      throw new UsageError(`unknown action "${action}"\n${USERS_USAGE}`);
  }
}

async function create(args: string[]): Promise<number> {
  const { values } = parseCommand(
    args,
    {
      email: { type: 'string' },
      role: { type: 'string', default: 'user' },
      name: { type: 'string' },
      'password-file': { type: 'string' },
    },
    0,
    'usage: tessera users create --email <email> [--role user|admin] [--name <name>] [--password-file <file>]',
  );
  if (values.email === undefined) throw new UsageError('users create needs --email <email>');
  const role = parseRole(values.role);
  const password = await readPassword(values['password-file']);
  return withAdministration(async (administration) => {
    const user = await administration.createUser(
      { email: values.email!, password, name: values.name, role },
      CLI_ACTOR,
      Date.now(),
    );
    process.stdout.write(`created ${user.role} ${user.email} (id ${user.id})\n`);
    return 0;
  });
}

async function list(args: string[]): Promise<number> {
  const { values } = parseCommand(
    args,
    {
      query: { type: 'string' },
      limit: { type: 'string' },
      cursor: { type: 'string' },
      all: { type: 'boolean', default: false },
    },
    0,
    LIST_USAGE,
  );
  const limit = Number(values.limit ?? (values.all ? MAX_PAGE_SIZE : DEFAULT_PAGE_SIZE));
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new UsageError(`--limit must be a whole number from 1 to ${MAX_PAGE_SIZE}`);
  }
  let after = values.cursor === undefined ? null : parseCursorOption(values.cursor);
  const emailPrefix = values.query?.trim().normalize('NFKC').toLowerCase();
  return withAdministration(async (administration) => {
    let total = 0;
    for (let pageNumber = 1; ; pageNumber += 1) {
      const page = await administration.listUsers({ emailPrefix, limit, after });
      for (const user of page.items) process.stdout.write(`${describe(user)}\n`);
      total += page.items.length;
      after = page.next;
      if (!values.all || after === null) break;
      // Progress goes to stderr, so stdout stays one user a line plus the summary.
      process.stderr.write(`page ${pageNumber}: ${page.items.length} users, ${total} so far\n`);
    }
    const count = `${total} user${total === 1 ? '' : 's'}`;
    const more = after === null ? '' : ` (more: --cursor ${encodeUserCursor(after)})`;
    process.stdout.write(`${count}${more}\n`);
    return 0;
  });
}

async function setRole(args: string[]): Promise<number> {
  const { positionals } = parseCommand(args, {}, 2, 'usage: tessera users set-role <id|email> user|admin');
  const [who = '', roleName] = positionals;
  const role = parseRole(roleName);
  return withAdministration(async (administration) => {
    const user = await administration.findUser(who);
    const updated = await administration.updateUser(user.id, { role }, CLI_ACTOR, Date.now());
    process.stdout.write(`${describe(updated)}\n`);
    return 0;
  });
}

async function setDisabled(args: string[], disabled: boolean): Promise<number> {
  const verb = disabled ? 'disable' : 'enable';
  const { positionals } = parseCommand(args, {}, 1, `usage: tessera users ${verb} <id|email>`);
  return withAdministration(async (administration) => {
    const user = await administration.findUser(positionals[0] ?? '');
    const updated = await administration.updateUser(user.id, { disabled }, CLI_ACTOR, Date.now());
    process.stdout.write(`${describe(updated)}\n`);
    return 0;
  });
}

function parseRole(value: string | undefined): 'user' | 'admin' {
  if (value === 'user' || value === 'admin') return value;
  throw new UsageError(`role must be "user" or "admin", not "${value ?? ''}"`);
}

/** `<id>  <email>  <role>  <active|disabled>  created <time>` */
function describe(user: UserRecord): string {
  const status = user.disabledAt === null ? 'active' : 'disabled';
  return `${user.id}  ${user.email}  ${user.role}  ${status}  created ${new Date(user.createdAt).toISOString()}`;
}

/** Runs `work` with an `Administration` over the configured store, closing the store after. */
export async function withAdministration(
  work: (administration: Administration) => Promise<number>,
): Promise<number> {
  const { store } = await openConfiguredStore();
  try {
    return await work(new Administration(store, new PasswordHasher()));
  } finally {
    await store.close();
  }
}
