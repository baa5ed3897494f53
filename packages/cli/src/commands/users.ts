import {
  Administration,
  CLI_ACTOR,
  EmailedTokens,
  issueResetLink,
  MailTemplates,
  MAX_PAGE_SIZE,
  PasswordHasher,
  recordAudit,
  type UserRecord,
} from '@tessera/server';
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
  users show <id|email>       The account: role, status, whether the address is verified, and its
        second factors (an authenticator app, recovery codes left).
  users set-role <id|email> user|admin
  users disable <id|email>    Refuse logins and revoke every session at once.
  users enable <id|email>     Allow logins again (revoked sessions stay revoked).
  users verify <id|email>     Mark the email address verified (TESSERA_EMAIL_VERIFICATION).
  users send-reset <id|email> Queue a password-reset link to the account's address; a running
        server delivers it (TESSERA_SMTP_URL, or the mail folder), valid TESSERA_RESET_TTL.
  users reset-mfa <id|email>  Remove the second factors (authenticator app, recovery codes): for a
        user who lost both. The password alone signs in again.

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
    case 'show':
      return show(rest);
    case 'set-role':
      return setRole(rest);
    case 'disable':
    case 'enable':
      return setDisabled(rest, action === 'disable');
    case 'verify':
      return verify(rest);
    case 'send-reset':
      return sendReset(rest);
    case 'reset-mfa':
      return resetMfa(rest);
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

async function show(args: string[]): Promise<number> {
  const { positionals } = parseCommand(args, {}, 1, 'usage: tessera users show <id|email>');
  const { store } = await openConfiguredStore();
  try {
    const user = await new Administration(store, new PasswordHasher()).findUser(positionals[0] ?? '');
    const { totp, recoveryCodesLeft } = await store.mfa.getFactors(user.id);
    const factor =
      totp === null
        ? 'none'
        : totp.confirmedAt === null
          ? 'an authenticator app, pending (not confirmed yet)'
          : `an authenticator app (${recoveryCodesLeft} recovery codes left)`;
    process.stdout.write(
      `${describe(user)}\nemail verified: ${user.emailVerifiedAt === null ? 'no' : 'yes'}\nsecond factor: ${factor}\n`,
    );
    return 0;
  } finally {
    await store.close();
  }
}

async function resetMfa(args: string[]): Promise<number> {
  const { positionals } = parseCommand(args, {}, 1, 'usage: tessera users reset-mfa <id|email>');
  return withAdministration(async (administration) => {
    const user = await administration.findUser(positionals[0] ?? '');
    const removed = await administration.resetMfa(user.id, CLI_ACTOR, Date.now());
    process.stdout.write(
      removed ? `second factors removed for ${user.email}\n` : `${user.email} has no second factor\n`,
    );
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

async function verify(args: string[]): Promise<number> {
  const { positionals } = parseCommand(args, {}, 1, 'usage: tessera users verify <id|email>');
  const { store } = await openConfiguredStore();
  try {
    const found = await new Administration(store, new PasswordHasher()).findUser(positionals[0] ?? '');
    const now = Date.now();
    const user = await store.recovery.markEmailVerified(found.id, now);
    if (user === null) throw new UsageError(`no such user: ${positionals[0] ?? ''}`);
    await recordAudit(store, { action: 'email_verified', actor: CLI_ACTOR, subject: user.id }, now);
    process.stdout.write(`verified ${user.email}\n`);
    return 0;
  } finally {
    await store.close();
  }
}

async function sendReset(args: string[]): Promise<number> {
  const { positionals } = parseCommand(args, {}, 1, 'usage: tessera users send-reset <id|email>');
  const { config, store } = await openConfiguredStore();
  try {
    const user = await new Administration(store, new PasswordHasher()).findUser(positionals[0] ?? '');
    if (user.disabledAt !== null) throw new UsageError(`${user.email} is disabled: enable it first`);
    const tokens = new EmailedTokens({
      store,
      templates: new MailTemplates(config.mailTemplates),
      // Queued in the outbox: the servers' senders find it on their next poll.
      sender: { nudge: () => undefined },
      appUrl: config.appUrl,
      onError: () => undefined,
    });
    await issueResetLink(tokens, user, config.resetTtl, CLI_ACTOR, Date.now());
    process.stdout.write(
      `reset link queued for ${user.email}, valid ${Math.round(config.resetTtl / 60)} min\n`,
    );
    return 0;
  } finally {
    await store.close();
  }
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
