import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../src/index.ts';
import { MailTemplates } from '../src/mail/templates.ts';

const values = {
  link: 'https://app.test/reset-password#token=abc',
  email: 'ada@example.test',
  minutes: '30',
};

test('the default reset message carries the link in both parts and the validity', () => {
  const mail = new MailTemplates().render('password_reset', values);
  assert.equal(mail.subject, 'Reset your password');
  assert.ok(mail.text.includes(values.link));
  assert.ok(mail.html.includes(`href="${values.link}"`));
  assert.match(mail.text, /within 30 minutes/);
});

test('values are escaped in HTML, and cannot end the subject line (header injection)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-templates-'));
  try {
    writeFileSync(join(dir, 'password_reset.txt'), 'Subject: Reset for {{email}}\n\nGo to {{link}}\n');
    writeFileSync(join(dir, 'password_reset.html'), '<a href="{{link}}">{{email}}</a>');
    const mail = new MailTemplates(dir).render('password_reset', {
      ...values,
      email: 'x@example.test\r\nBcc: victim@example.test',
      link: 'https://app.test/"><script>alert(1)</script>',
    });
    assert.equal(mail.subject, 'Reset for x@example.test Bcc: victim@example.test');
    assert.doesNotMatch(mail.subject, /[\r\n]/);
    assert.equal(mail.text, 'Go to https://app.test/"><script>alert(1)</script>\n');
    assert.equal(
      mail.html,
      '<a href="https://app.test/&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;">x@example.test\r\nBcc: victim@example.test</a>',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an override with an unknown placeholder or no subject line stops the start, naming the variable', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-templates-'));
  try {
    writeFileSync(join(dir, 'password_reset.html'), '<p>{{password}}</p>');
    assert.throws(
      () => new MailTemplates(dir),
      (error) =>
        error instanceof ConfigError &&
        error.variable === 'TESSERA_MAIL_TEMPLATES' &&
        /\{\{password\}\}/.test(error.message),
    );
    rmSync(join(dir, 'password_reset.html'));
    writeFileSync(join(dir, 'password_reset.txt'), 'no subject here');
    assert.throws(() => new MailTemplates(dir), /must start with "Subject: …"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('mail settings: defaults, and refusals that name the variable without echoing a password', () => {
  const config = loadConfig({ TESSERA_ISSUER: 'https://auth.example.com' });
  assert.equal(config.smtpUrl, undefined);
  assert.equal(config.mailFrom, 'Tessera <no-reply@auth.example.com>');
  assert.equal(config.mailDir, 'data/mail');
  assert.equal(loadConfig({ TESSERA_DATABASE_URL: 'sqlite:/srv/tessera/t.db' }).mailDir, '/srv/tessera/mail');
  assert.equal(loadConfig({ TESSERA_DATABASE_URL: 'postgres://db/tessera' }).mailDir, './data/mail');
  assert.equal(config.resetTtl, 1800);
  assert.equal(config.appUrl, 'https://auth.example.com');
  assert.equal(
    loadConfig({ TESSERA_SMTP_URL: 'smtps://u:p@mail.example.com:465' }).smtpUrl,
    'smtps://u:p@mail.example.com:465',
  );
  const refused = (env: Record<string, string>, variable: string): void => {
    assert.throws(
      () => loadConfig(env),
      (error) =>
        error instanceof ConfigError && error.variable === variable && !error.message.includes('hunter2'),
      JSON.stringify(env),
    );
  };
  refused({ TESSERA_SMTP_URL: 'http://u:hunter2@mail.example.com' }, 'TESSERA_SMTP_URL');
  refused({ TESSERA_SMTP_URL: 'mail.example.com:25' }, 'TESSERA_SMTP_URL');
  refused({ TESSERA_MAIL_FROM: 'a@example.com\r\nBcc: b@example.com' }, 'TESSERA_MAIL_FROM');
  refused({ TESSERA_MAIL_FROM: 'nobody' }, 'TESSERA_MAIL_FROM');
  refused({ TESSERA_RESET_TTL: '10s' }, 'TESSERA_RESET_TTL');
  refused({ TESSERA_APP_URL: 'javascript:alert(1)' }, 'TESSERA_APP_URL');
});
