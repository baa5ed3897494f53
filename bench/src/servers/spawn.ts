import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The parent's environment without its own TESSERA_* settings (CI exports test-only ones such as
 * TESSERA_TEST_POSTGRES_URL, which the server rightly refuses as unknown), plus the case's.
 */
function childEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('TESSERA_')),
  );
  return { ...inherited, ...env };
}

/**
 * Every server started and not yet exited. A benchmark interrupted (Ctrl-C, a crash, a CI timeout)
 * must not leave them listening: they are killed when this process exits, and SIGINT or SIGTERM
 * make it exit.
 */
const running = new Set<ChildProcess>();
let reaperInstalled = false;

function track(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (reaperInstalled) return;
  reaperInstalled = true;
  process.once('exit', () => {
    for (const server of running) server.kill('SIGKILL');
  });
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));
}

/** A server running as its own process on loopback. */
export interface ServerProcess {
  url: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

/**
 * Starts `node <script> <args>` and waits for the first stdout line, which must be the JSON
 * `{"url": "http://127.0.0.1:<port>"}` the benchmark servers print once listening.
 */
export async function spawnAnnounced(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<ServerProcess> {
  const child = spawn(process.execPath, [script, ...args], {
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  track(child);
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      const newline = buffered.indexOf('\n');
      if (newline >= 0) resolve((JSON.parse(buffered.slice(0, newline)) as { url: string }).url);
    });
    child.once('exit', (code) => reject(new Error(`${script} exited (${code}) before listening`)));
  });
  return handle(child, url);
}

/**
 * Starts `node <nodeArgs> <script> <args>` and waits until `readyUrl` answers 200 (at most 20 s).
 * `nodeArgs` are flags for node itself (a diagnosis comparing V8 settings); none by default.
 */
export async function spawnPolled(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  url: string,
  readyPath: string,
  nodeArgs: readonly string[] = [],
): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
    env: childEnv(env),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  track(child);
  let exited = false;
  child.once('exit', () => (exited = true));
  const deadline = Date.now() + 20_000;
  while (!exited && Date.now() < deadline) {
    try {
      const response = await fetch(url + readyPath);
      await response.arrayBuffer();
      if (response.status === 200) return handle(child, url);
    } catch {
      // Not listening yet.
    }
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`${script} did not become ready at ${url}`);
}

function handle(child: ChildProcess, url: string): ServerProcess {
  return {
    url,
    pid: child.pid,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await gone;
      clearTimeout(timer);
    },
  };
}
