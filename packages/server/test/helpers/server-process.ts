import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The real `tessera` command as child processes of a test: `tessera serve` started on a free port,
 * one-shot CLI runs, and the temporary databases they use. Everything started or created here is
 * registered, so a test file only has to call `after(cleanup)` to leave nothing behind, even when a
 * test fails half-way.
 */

const CLI = join(import.meta.dirname, '..', '..', '..', 'cli', 'src', 'main.ts');

const running = new Set<ChildProcess>();
const dirs: string[] = [];

/** Kills every child still running (SIGKILL) and removes every temporary directory made here. */
export function cleanup(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A `sqlite:` URL for a fresh file in a new temporary directory (removed by `cleanup`). */
export function tempDatabaseUrl(prefix = 'tessera-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return `sqlite:${join(dir, 'tessera.db')}`;
}

/** A port nobody listens on right now (the kernel picks it; we release it for the child). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * The parent's environment with `tessera` on top. The parent's own TESSERA_* settings are left out
 * so that a developer's shell cannot change what a test configures. NODE_TEST_CONTEXT is left out
 * because `node --test` sets it in each test file's process to make that process report to the
 * runner; the CLI is a program under test, not a test file, and must not take itself for one.
 */
function childEnv(tessera: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('TESSERA_') && name !== 'NODE_TEST_CONTEXT') env[name] = value;
  }
  return { ...env, ...tessera };
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CliRun extends Exit {
  stdout: string;
  stderr: string;
}

/**
 * Runs `tessera <args>` to completion with the pinned Node (`process.execPath`). `env` is passed as
 * given, without defaults, so a test sees how the command reacts to exactly these settings. `input`
 * is written to its stdin, which is otherwise empty (at its end at once). A run still going after 15 s is killed, so a
 * hanging command fails its test instead of stalling it.
 */
export async function runCli(
  args: string[],
  env: Record<string, string>,
  { input }: { input?: string } = {},
): Promise<CliRun> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: childEnv(env),
    stdio: 'pipe',
  });
  running.add(child);
  child.stdin.end(input);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const { code, signal } = await new Promise<Exit>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  clearTimeout(timer);
  running.delete(child);
  return { code, signal, stdout, stderr };
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Settles when the process has exited, however that came about. */
  exited: Promise<Exit>;
}

/**
 * Starts `tessera serve` as its own process with the pinned Node and waits until `/readyz` answers
 * 200. `env` holds the TESSERA_* settings of the deployment (at least TESSERA_DATABASE_URL and
 * TESSERA_ISSUER); TESSERA_HOST defaults to 127.0.0.1 and TESSERA_LOG_LEVEL to warn. TESSERA_PORT is
 * always chosen here: a free port is picked, and if another process took it before the server bound
 * it (EADDRINUSE), the start is retried on a new one, up to three times.
 */
export async function spawnServer(env: Record<string, string>): Promise<ServerProcess> {
  let stderr = '';
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const port = await freePort();
    const child = spawn(process.execPath, [CLI, 'serve'], {
      env: childEnv({
        TESSERA_HOST: '127.0.0.1',
        TESSERA_LOG_LEVEL: 'warn',
        ...env,
        TESSERA_PORT: String(port),
      }),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    running.add(child);
    stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    let gone = false;
    const exited = new Promise<Exit>((resolve) =>
      child.once('exit', (code, signal) => {
        gone = true;
        running.delete(child);
        resolve({ code, signal });
      }),
    );
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 10_000;
    while (!gone && Date.now() < deadline) {
      try {
        const ready = await fetch(`${url}/readyz`);
        await ready.arrayBuffer();
        if (ready.status === 200) return { url, child, exited };
      } catch {
        // Not listening yet.
      }
      await sleep(20);
    }
    child.kill('SIGKILL');
    await exited;
    if (!/EADDRINUSE/.test(stderr)) break;
  }
  throw new Error(`server did not become ready: ${stderr}`);
}
