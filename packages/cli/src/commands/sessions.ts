import { CLI_ACTOR } from '@tessera/server';
import { parseCommand, wantsHelp } from '../args.ts';
import { UsageError } from '../usage-error.ts';
import { withAdministration } from './users.ts';

export const SESSIONS_USAGE = `Usage: tessera sessions <action>

  sessions list <user id|email>    The user's live sessions, newest first.
  sessions revoke <session id>     End one session: its refresh token stops working at once, its
                                   access tokens within a second at every server and verifier.`;

/** `tessera sessions list|revoke`. */
export async function sessionsCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action === undefined || wantsHelp(args)) {
    process.stdout.write(`${SESSIONS_USAGE}\n`);
    return action === undefined ? 2 : 0;
  }
  if (action === 'list') {
    const { positionals } = parseCommand(rest, {}, 1, 'usage: tessera sessions list <user id|email>');
    return withAdministration(async (administration) => {
      const user = await administration.findUser(positionals[0] ?? '');
      const sessions = await administration.listSessions(user.id, Date.now());
      for (const session of sessions) {
        const expires = new Date(Math.min(session.expiresAt, session.idleExpiresAt)).toISOString();
        process.stdout.write(
          `${session.id}  created ${new Date(session.createdAt).toISOString()}  ` +
            `last used ${new Date(session.lastUsedAt).toISOString()}  expires ${expires}  ` +
            `${session.ip ?? '-'}  ${JSON.stringify(session.userAgent ?? '')}\n`,
        );
      }
      process.stdout.write(`${sessions.length} live session${sessions.length === 1 ? '' : 's'}\n`);
      return 0;
    });
  }
  if (action === 'revoke') {
    const { positionals } = parseCommand(rest, {}, 1, 'usage: tessera sessions revoke <session id>');
    return withAdministration(async (administration) => {
      const revoked = await administration.revokeSession(positionals[0] ?? '', CLI_ACTOR, Date.now());
      process.stdout.write(`revoked session ${revoked.sessionId} of user ${revoked.userId}\n`);
      return 0;
    });
  }
  throw new UsageError(`unknown action "${action}"\n${SESSIONS_USAGE}`);
}
