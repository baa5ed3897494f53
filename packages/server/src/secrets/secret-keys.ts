import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SecretBox } from './secret-box.ts';

/** Where the keys that seal secrets at rest came from, and the box they make (`null`: none). */
export interface SecretKeys {
  box: SecretBox | null;
  /** `env`: TESSERA_SECRET_KEY; `file`: the key file beside the SQLite database. */
  origin: 'env' | 'file' | 'memory' | 'none';
  /** The key file, when that is where the key is. */
  file?: string;
  /** The key file was created by this start (the operator should hear of it once). */
  created?: boolean;
  /** The key file can be read by others than its owner (the operator should hear of it). */
  exposed?: boolean;
}

/**
 * The secret box of a deployment. `TESSERA_SECRET_KEY` when set. Otherwise, for the embedded
 * default (one SQLite file), a key in `secret.key` beside the database, created on first start
 * with mode 0600: `npm start` needs no setup, and a copy of the database file alone does not hold
 * the key. An in-memory database gets a key for the life of the process. PostgreSQL without the
 * variable gets none: instances on several machines cannot share a key file, so the features that
 * seal (two-factor enrolment) refuse until it is set rather than seal with a key others lack.
 */
export function loadSecretKeys(keys: ReadonlyArray<Buffer>, databaseUrl: string): SecretKeys {
  if (keys.length > 0) return { box: new SecretBox(keys), origin: 'env' };
  if (databaseUrl === 'sqlite::memory:')
    return { box: new SecretBox([Buffer.from(SecretBox.generateKey(), 'base64url')]), origin: 'memory' };
  if (!databaseUrl.startsWith('sqlite:')) return { box: null, origin: 'none' };
  const file = join(dirname(databaseUrl.slice('sqlite:'.length)), 'secret.key');
  const { key, created } = readOrCreateKey(file);
  const exposed = (statSync(file).mode & 0o077) !== 0;
  return { box: new SecretBox([key]), origin: 'file', file, created, exposed };
}

function readOrCreateKey(file: string): { key: Buffer; created: boolean } {
  // Written whole under a name of its own, then linked into place: of two processes starting on
  // one database at once, one links its key, the other finds the file complete and reads it.
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(draft, `${SecretBox.generateKey()}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(draft, file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return { key: parseKeyFile(file), created: false };
    // A file system without hard links (some network or overlay volumes): exclusive create.
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EXDEV') throw error;
    try {
      writeFileSync(file, readFileSync(draft), { mode: 0o600, flag: 'wx' });
    } catch (fallback) {
      if ((fallback as NodeJS.ErrnoException).code !== 'EEXIST') throw fallback;
      return { key: parseKeyFile(file), created: false };
    }
  } finally {
    unlinkSync(draft);
  }
  return { key: parseKeyFile(file), created: true };
}

function parseKeyFile(file: string): Buffer {
  const text = readFileSync(file, 'utf8').trim();
  const key = Buffer.from(text, 'base64url');
  if (!/^[A-Za-z0-9_-]{43}$/.test(text) || key.length !== 32)
    throw new Error(`${file} does not hold a 32-byte base64url key; restore it from a backup`);
  return key;
}
