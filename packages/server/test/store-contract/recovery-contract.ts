import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bindingOf,
  codeHashOf,
  type OneTimePurpose,
  type OneTimeTokenRecord,
} from '../../src/stores/recovery/recovery-store.ts';
import type { Store } from '../../src/stores/store.ts';
import {
  DAY,
  mailFor,
  MINUTE,
  randomHash,
  resetToken,
  seedSession,
  SECOND,
  T0,
  tokenFor,
} from './fixtures.ts';

/** Account recovery (issue 13): one-time tokens and the mail queued with them. */
export function recoveryContract(store: () => Store): void {
  describe('recovery: one-time tokens', () => {
    test('a reset spends the token, sets the hash, revokes every session, logs the revocations', async () => {
      const { user, session } = await seedSession(store());
      const other = await seedSession(store(), { user });
      const token = resetToken(user);
      await store().recovery.issueToken(token, mailFor(user));
      const now = T0 + MINUTE;
      const outcome = await store().recovery.resetPassword({
        tokenHash: token.hash,
        newPasswordHash: 'new-hash',
        now,
      });
      assert.equal(outcome.kind, 'reset');
      if (outcome.kind !== 'reset') return;
      assert.equal(outcome.user.passwordHash, 'new-hash');
      assert.equal((await store().getUserById(user.id))?.passwordHash, 'new-hash');
      assert.deepEqual(
        outcome.revoked.map((entry) => entry.sessionId).sort(),
        [session.id, other.session.id].sort(),
      );
      for (const id of [session.id, other.session.id])
        assert.notEqual((await store().getSession(id))?.revokedAt, null);
      const log = await store().listRevocations(0, 0);
      assert.deepEqual(
        log.revoked.map((entry) => entry.sessionId).sort(),
        [session.id, other.session.id].sort(),
      );
      // Single use.
      const again = await store().recovery.resetPassword({
        tokenHash: token.hash,
        newPasswordHash: 'x',
        now,
      });
      assert.equal(again.kind, 'invalid');
      assert.equal((await store().getUserById(user.id))?.passwordHash, 'new-hash');
    });

    test('expired, unknown, stale-bound and disabled-account tokens change nothing', async () => {
      const { user } = await seedSession(store());
      const expired = resetToken(user, { expiresAt: T0 + MINUTE });
      const stale = resetToken(user, {
        binding: bindingOf({ ...user, passwordHash: 'an older hash' }, 'password_reset'),
      });
      await store().recovery.issueToken(expired, mailFor(user));
      await store().recovery.issueToken(stale, mailFor(user));
      const now = T0 + MINUTE;
      for (const tokenHash of [expired.hash, stale.hash, randomHash()]) {
        const outcome = await store().recovery.resetPassword({ tokenHash, newPasswordHash: 'new-hash', now });
        assert.equal(outcome.kind, 'invalid');
      }
      const disabled = await seedSession(store());
      const live = resetToken(disabled.user);
      await store().recovery.issueToken(live, mailFor(disabled.user));
      await store().updateUser(disabled.user.id, { disabled: true }, now);
      assert.equal(
        (await store().recovery.resetPassword({ tokenHash: live.hash, newPasswordHash: 'new-hash', now }))
          .kind,
        'invalid',
      );
      assert.equal((await store().getUserById(user.id))?.passwordHash, user.passwordHash);
      assert.equal((await store().getUserById(disabled.user.id))?.passwordHash, disabled.user.passwordHash);
    });

    test('a peek finds the user of a live token only, and spends nothing', async () => {
      const { user } = await seedSession(store());
      const live = resetToken(user);
      const expired = resetToken(user, { expiresAt: T0 + MINUTE });
      const stale = resetToken(user, {
        binding: bindingOf({ ...user, passwordHash: 'an older hash' }, 'password_reset'),
      });
      for (const token of [live, expired, stale]) await store().recovery.issueToken(token, mailFor(user));
      const now = T0 + MINUTE;
      const peek = (hash: string, purpose: OneTimePurpose = 'password_reset') =>
        store().recovery.peekToken(hash, purpose, now);
      assert.equal((await peek(live.hash))?.id, user.id);
      assert.equal((await peek(live.hash))?.id, user.id, 'still live after a peek');
      assert.equal(await peek(live.hash, 'email_verify'), null, 'bound to its purpose');
      for (const hash of [expired.hash, stale.hash, randomHash()]) assert.equal(await peek(hash), null);
      const reset = await store().recovery.resetPassword({
        tokenHash: live.hash,
        newPasswordHash: 'new-hash',
        now,
      });
      assert.equal(reset.kind, 'reset');
      assert.equal(await peek(live.hash), null, 'spent');
    });

    test("a reset kills the user's other outstanding tokens", async () => {
      const { user } = await seedSession(store());
      const first = resetToken(user);
      const second = resetToken(user);
      await store().recovery.issueToken(first, mailFor(user));
      await store().recovery.issueToken(second, mailFor(user));
      const now = T0 + SECOND;
      assert.equal(
        (await store().recovery.resetPassword({ tokenHash: first.hash, newPasswordHash: 'h1', now })).kind,
        'reset',
      );
      assert.equal(
        (await store().recovery.resetPassword({ tokenHash: second.hash, newPasswordHash: 'h2', now })).kind,
        'invalid',
      );
      assert.equal((await store().getUserById(user.id))?.passwordHash, 'h1');
    });

    test('concurrent resets with one token: exactly one succeeds', async () => {
      const { user } = await seedSession(store());
      const token = resetToken(user);
      await store().recovery.issueToken(token, mailFor(user));
      const outcomes = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          store().recovery.resetPassword({
            tokenHash: token.hash,
            newPasswordHash: `hash-${i}`,
            now: T0 + SECOND,
          }),
        ),
      );
      const winners = outcomes.flatMap((outcome, i) => (outcome.kind === 'reset' ? [i] : []));
      assert.equal(winners.length, 1);
      assert.equal((await store().getUserById(user.id))?.passwordHash, `hash-${winners[0]}`);
    });

    test('several links of one user spent at once: one reset, no deadlock, no store error', async () => {
      for (let round = 0; round < 5; round += 1) {
        const { user } = await seedSession(store());
        const resets = [resetToken(user), resetToken(user), resetToken(user)];
        const verify = tokenFor(user, 'email_verify', { expiresAt: T0 + DAY });
        for (const token of [...resets, verify]) await store().recovery.issueToken(token, mailFor(user));
        const now = T0 + SECOND;
        const outcomes = await Promise.all([
          ...resets.map((token, i) =>
            store().recovery.resetPassword({ tokenHash: token.hash, newPasswordHash: `h${i}`, now }),
          ),
          store().recovery.verifyEmail(verify.hash, now),
        ]);
        assert.equal(outcomes.filter((outcome) => outcome.kind === 'reset').length, 1, `round ${round}`);
      }
    });

    test('an email change sets the address, verified, once; and not onto a taken one', async () => {
      const { user } = await seedSession(store());
      const other = await seedSession(store());
      const change = tokenFor(user, 'email_change', { payload: `moved.${user.email}` });
      const onto = tokenFor(user, 'email_change', { payload: other.user.email });
      await store().recovery.issueToken(onto, mailFor(user, { subject: 'first' }));
      await store().recovery.issueToken(
        change,
        mailFor(user, { subject: 'second' }),
        mailFor(user, { subject: 'notice' }),
      );
      const due = await store().outbox.claimDue(T0 + SECOND, T0 + MINUTE, 50);
      const subjects = due.map((message) => message.subject);
      for (const subject of ['first', 'second', 'notice']) assert.ok(subjects.includes(subject), subject);
      // The later request superseded the first: its token is dead.
      assert.equal((await store().recovery.changeEmail(onto.hash, T0 + SECOND)).kind, 'invalid');
      const outcome = await store().recovery.changeEmail(change.hash, T0 + SECOND);
      assert.equal(outcome.kind, 'changed');
      const changed = await store().getUserById(user.id);
      assert.equal(changed?.email, `moved.${user.email}`);
      assert.equal(changed?.emailVerifiedAt, T0 + SECOND);
      assert.equal((await store().recovery.changeEmail(change.hash, T0 + SECOND)).kind, 'invalid');

      const taken = tokenFor(other.user, 'email_change', { payload: changed?.email ?? '' });
      await store().recovery.issueToken(taken, mailFor(other.user));
      assert.equal((await store().recovery.changeEmail(taken.hash, T0 + SECOND)).kind, 'taken');
      assert.equal((await store().getUserById(other.user.id))?.email, other.user.email);
    });

    test('a sign-in code: counted tries, dead after five, spent once, by code or by link', async () => {
      const { user } = await seedSession(store());
      const issue = async (): Promise<OneTimeTokenRecord> => {
        const token = tokenFor(user, 'email_login', { payload: '{"remember":false}' });
        token.codeHash = codeHashOf(token.hash, '424242');
        await store().recovery.issueToken(token, mailFor(user));
        return token;
      };
      const attempt = (code: string, now = T0 + SECOND) =>
        store().recovery.spendLoginCode({ email: user.email, code, now });
      await issue();
      for (let i = 0; i < 4; i += 1) assert.equal((await attempt('000000')).kind, 'invalid');
      const granted = await attempt('424242');
      assert.equal(granted.kind, 'granted');
      if (granted.kind === 'granted') assert.equal(granted.payload, '{"remember":false}');
      assert.equal((await attempt('424242')).kind, 'invalid', 'spent');

      await issue();
      for (let i = 0; i < 5; i += 1) assert.equal((await attempt('000000')).kind, 'invalid');
      assert.equal((await attempt('424242')).kind, 'invalid', 'dead after five wrong tries');

      const byLink = await issue();
      assert.equal((await attempt('424242', byLink.expiresAt)).kind, 'invalid', 'expired');
      assert.equal((await store().recovery.spendLoginLink(byLink.hash, T0 + SECOND)).kind, 'granted');
      assert.equal((await attempt('424242')).kind, 'invalid', 'the link spent the same grant');
      assert.equal((await store().getUserById(user.id))?.emailVerifiedAt, T0 + SECOND);

      await issue();
      const racing = await Promise.all(Array.from({ length: 6 }, () => attempt('424242')));
      assert.equal(racing.filter((outcome) => outcome.kind === 'granted').length, 1);
      assert.equal(
        (await store().recovery.spendLoginCode({ email: 'nobody@example.test', code: '424242', now: T0 }))
          .kind,
        'invalid',
      );
    });

    test('the token and its mail commit together: a token that cannot be stored queues no mail', async () => {
      const { user } = await seedSession(store());
      const token = resetToken(user);
      await store().recovery.issueToken(token, mailFor(user));
      await assert.rejects(store().recovery.issueToken(token, mailFor(user, { subject: 'the duplicate' })));
      const due = await store().outbox.claimDue(T0 + SECOND, T0 + MINUTE, 10);
      assert.deepEqual(
        due.map((message) => message.subject),
        ['Reset your password'],
      );
    });
  });
}
