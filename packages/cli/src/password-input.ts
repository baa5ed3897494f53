import { readFile } from 'node:fs/promises';
import { UsageError } from './usage-error.ts';

/**
 * A password for `users create`, never from the command line (where `ps` and shell history would
 * show it): from `--password-file`, else from stdin — typed at a prompt without echo on a
 * terminal, or piped. One trailing newline is dropped; nothing else is changed.
 */
export async function readPassword(file: string | undefined): Promise<string> {
  const text = file !== undefined ? await readFile(file, 'utf8') : await readStdin();
  const password = text.replace(/\r?\n$/, '');
  if (password === '') {
    throw new UsageError('no password given: pipe it on stdin or pass --password-file <file>');
  }
  return password;
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return prompt('Password: ');
  // Decode once at the end: a multi-byte character split across two chunks must stay whole.
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin)
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads one line from the terminal in raw mode, echoing nothing. Ctrl-C aborts. */
function prompt(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let line = '';
    const done = (settle: () => void): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      process.stderr.write('\n');
      settle();
    };
    const onData = (chunk: string): void => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n' || char === '\u0004') return done(() => resolve(line));
        if (char === '\u0003') return done(() => reject(new UsageError('cancelled')));
        if (char === '\u007f' || char === '\b') line = line.slice(0, -1);
        else line += char;
      }
    };
    stdin.on('data', onData);
  });
}
