import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

/**
 * Variables of this repository's own test run: `NODE_OPTIONS` carries the `@tessera/source`
 * condition (which would send Node to the shipped .ts sources), and `NODE_TEST_CONTEXT` would make
 * a fixture's own `node --test` report to this runner instead of printing its results.
 */
const OWN_RUN = new Set(['NODE_OPTIONS', 'NODE_TEST_CONTEXT']);

/**
 * Running things the way a user outside this repository does: none of the variables above or of
 * the repository's npm scripts, Node 24 first on PATH (the CLI's shebang
 * and npm find it there) and none of the repository's `node_modules/.bin`.
 */
export function outsideEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (OWN_RUN.has(key) || key.startsWith('npm_') || key.startsWith('TESSERA_')) continue;
    env[key] = value;
  }
  const path = (process.env['PATH'] ?? '').split(delimiter).filter((dir) => !dir.includes('node_modules'));
  env['PATH'] = [dirname(process.execPath), ...path].join(delimiter);
  return { ...env, NO_COLOR: '1', ...extra };
}

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; rejects with its output when it exits non-zero (unless `allowFailure`). */
export function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; allowFailure?: boolean },
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? outsideEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const ran = { code, stdout, stderr };
      if (code === 0 || options.allowFailure) resolve(ran);
      else reject(new Error(`${command} ${args.join(' ')} exited ${code}\n${stdout}\n${stderr}`));
    });
  });
}

/**
 * A Node.js binary of the given version from the registry's `node` package, kept under `.tmp/`
 * between runs. It is never a dependency of the repository: npm scripts run on the Node the
 * `node` dev dependency pins, and a second one there would move them all.
 */
export async function nodeBinary(version: string, cacheDir: string): Promise<string> {
  const dir = join(cacheDir, version);
  const binary = join(dir, 'node_modules', 'node', 'bin', 'node');
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  // The package downloads its platform's binary in an install script, which npm runs only for
  // packages the project allows.
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ private: true, allowScripts: { node: true } }));
  await run('npm', ['install', '--no-audit', '--no-fund', `node@${version}`], { cwd: dir });
  return binary;
}
