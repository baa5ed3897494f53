import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config/load-config.ts';

/** The messages Tessera sends, each with the values its template may use. */
export const TEMPLATE_VALUES = {
  password_reset: ['link', 'email', 'minutes'],
  verify_email: ['link', 'email', 'hours'],
  email_change: ['link', 'email', 'newEmail', 'hours'],
  email_change_notice: ['email', 'newEmail'],
  sign_in_code: ['code', 'link', 'email', 'minutes'],
} as const satisfies Record<string, readonly string[]>;

export type TemplateName = keyof typeof TEMPLATE_VALUES;
export type TemplateValues<N extends TemplateName> = Record<(typeof TEMPLATE_VALUES)[N][number], string>;

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

/** A template's three parts; `{{name}}` is replaced by a value (escaped in HTML). */
interface Template {
  subject: string;
  text: string;
  html: string;
}

const DEFAULTS: Record<TemplateName, Template> = {
  email_change: {
    subject: 'Confirm your new email address',
    text: [
      'The account {{email}} asked to use this address, {{newEmail}}, from now on.',
      '',
      'To confirm, open this link within {{hours}} hours and press Confirm:',
      '',
      '{{link}}',
      '',
      'If you did not ask for this, ignore this message: nothing changes.',
      '',
    ].join('\n'),
    html: [
      '<!doctype html><html><body style="font-family: sans-serif">',
      '<p>The account <b>{{email}}</b> asked to use this address, <b>{{newEmail}}</b>, from now on.</p>',
      '<p>To confirm, open this link within {{hours}} hours and press Confirm:</p>',
      '<p><a href="{{link}}">Confirm my new address</a></p>',
      '<p>If you did not ask for this, ignore this message: nothing changes.</p>',
      '</body></html>',
      '',
    ].join('\n'),
  },
  email_change_notice: {
    subject: 'Your email address is being changed',
    text: [
      'Someone signed in to the account {{email}} asked to change its address to {{newEmail}}.',
      'It changes only when the link mailed to the new address is confirmed.',
      '',
      'If this was not you, reset your password now: that cancels the change and signs out',
      'every session.',
      '',
    ].join('\n'),
    html: [
      '<!doctype html><html><body style="font-family: sans-serif">',
      '<p>Someone signed in to the account <b>{{email}}</b> asked to change its address to',
      '<b>{{newEmail}}</b>. It changes only when the link mailed to the new address is confirmed.</p>',
      '<p>If this was not you, reset your password now: that cancels the change and signs out',
      'every session.</p>',
      '</body></html>',
      '',
    ].join('\n'),
  },
  sign_in_code: {
    subject: 'Your sign-in code: {{code}}',
    text: [
      'Your code to sign in to {{email}} is:',
      '',
      '    {{code}}',
      '',
      'It works once, within {{minutes}} minutes. You can also open this link and press Sign in:',
      '',
      '{{link}}',
      '',
      'If you did not ask for it, ignore this message: nobody can sign in without the code.',
      '',
    ].join('\n'),
    html: [
      '<!doctype html><html><body style="font-family: sans-serif">',
      '<p>Your code to sign in to <b>{{email}}</b> is:</p>',
      '<p style="font-size: 1.6em; letter-spacing: 0.2em"><b>{{code}}</b></p>',
      '<p>It works once, within {{minutes}} minutes. You can also <a href="{{link}}">open this link</a>',
      'and press Sign in.</p>',
      '<p>If you did not ask for it, ignore this message: nobody can sign in without the code.</p>',
      '</body></html>',
      '',
    ].join('\n'),
  },
  verify_email: {
    subject: 'Confirm your email address',
    text: [
      'An account was created with the address {{email}}.',
      '',
      'To confirm that it is yours, open this link within {{hours}} hours and press Confirm:',
      '',
      '{{link}}',
      '',
      'If you did not create an account, ignore this message.',
      '',
    ].join('\n'),
    html: [
      '<!doctype html><html><body style="font-family: sans-serif">',
      '<p>An account was created with the address <b>{{email}}</b>.</p>',
      '<p>To confirm that it is yours, open this link within {{hours}} hours and press Confirm:</p>',
      '<p><a href="{{link}}">Confirm my address</a></p>',
      '<p>If you did not create an account, ignore this message.</p>',
      '</body></html>',
      '',
    ].join('\n'),
  },
  password_reset: {
    subject: 'Reset your password',
    text: [
      'Someone asked to reset the password of the account {{email}}.',
      '',
      'To choose a new password, open this link within {{minutes}} minutes:',
      '',
      '{{link}}',
      '',
      'Resetting signs you out everywhere. If you did not ask for this, ignore this message:',
      'your password stays as it is.',
      '',
    ].join('\n'),
    html: [
      '<!doctype html><html><body style="font-family: sans-serif">',
      '<p>Someone asked to reset the password of the account <b>{{email}}</b>.</p>',
      '<p>To choose a new password, open this link within {{minutes}} minutes:</p>',
      '<p><a href="{{link}}">Choose a new password</a></p>',
      '<p>Resetting signs you out everywhere. If you did not ask for this, ignore this message:',
      'your password stays as it is.</p>',
      '</body></html>',
      '',
    ].join('\n'),
  },
};

/**
 * The mail templates: the defaults above, or a folder's (`TESSERA_MAIL_TEMPLATES`) where it has
 * `<name>.txt` (first line `Subject: …`, then a blank line, then the body) and `<name>.html`.
 * Read and checked once at start: a placeholder a message does not have is a configuration error.
 */
export class MailTemplates {
  readonly #templates: Record<TemplateName, Template>;

  constructor(folder?: string) {
    this.#templates = { ...DEFAULTS };
    if (folder === undefined) return;
    for (const name of Object.keys(TEMPLATE_VALUES) as TemplateName[]) {
      this.#templates[name] = readOverride(folder, name, DEFAULTS[name]);
    }
  }

  render<N extends TemplateName>(name: N, values: TemplateValues<N>): RenderedMail {
    const template = this.#templates[name];
    const lookup = values as Record<string, string>;
    const fill = (source: string, escape: (value: string) => string): string =>
      source.replaceAll(/\{\{(\w+)\}\}/g, (_match, key: string) => escape(lookup[key] ?? ''));
    return {
      // A subject is one header line: no value may end it and start another (SMTP header injection).
      subject: fill(template.subject, (value) => value.replaceAll(/[\r\n]+/g, ' ')).trim(),
      text: fill(template.text, (value) => value),
      html: fill(template.html, escapeHtml),
    };
  }
}

function readOverride(folder: string, name: TemplateName, fallback: Template): Template {
  const textFile = join(folder, `${name}.txt`);
  const htmlFile = join(folder, `${name}.html`);
  const template = { ...fallback };
  if (existsSync(textFile)) {
    const source = readFileSync(textFile, 'utf8').replaceAll('\r\n', '\n');
    const match = /^Subject: *(.+)\n\n([\s\S]*)$/.exec(source);
    if (!match) {
      throw new ConfigError(
        'TESSERA_MAIL_TEMPLATES',
        `${textFile} must start with "Subject: …" and a blank line`,
      );
    }
    template.subject = match[1]!;
    template.text = match[2]!;
  }
  if (existsSync(htmlFile)) template.html = readFileSync(htmlFile, 'utf8');
  const allowed = new Set<string>(TEMPLATE_VALUES[name]);
  for (const part of [template.subject, template.text, template.html]) {
    for (const [, key] of part.matchAll(/\{\{(\w+)\}\}/g)) {
      if (!allowed.has(key!)) {
        throw new ConfigError(
          'TESSERA_MAIL_TEMPLATES',
          `${name}: unknown placeholder {{${key}}} (known: ${[...allowed].join(', ')})`,
        );
      }
    }
  }
  return template;
}

export function escapeHtml(value: string): string {
  return value.replaceAll(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
