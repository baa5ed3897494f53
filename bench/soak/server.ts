import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const CLI = join(import.meta.dirname, '..', '..', 'packages', 'cli', 'src', 'main.ts');

// Node's own notes on stderr (experimental features), not the server's.
const NODE_NOTE = /^\(node:\d+\) ExperimentalWarning|^\(Use `node --trace-warnings/;

/**
 * `tessera serve` as its own process, as an operator runs it: the pinned Node, the TESSERA_*
 * settings given, logs at `warn` so that every line it writes is something to look at.
 */
export class ServerProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Log lines at warn or above, and anything on stderr but Node's own notes. */
  readonly problems: string[] = [];
  readonly exited: Promise<number | null>;

  private constructor(url: string, child: ChildProcess) {
    this.url = url;
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    let pending = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim() !== '') this.problems.push(line);
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) {
        if (line.trim() !== '' && !NODE_NOTE.test(line)) this.problems.push(`stderr: ${line}`);
      }
    });
  }

  /** Starts the server on a free loopback port and waits for `/readyz`; retries a lost port race. */
  static async start(env: Record<string, string>): Promise<ServerProcess> {
    let failure = '';
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const port = await freePort();
      const childEnv: NodeJS.ProcessEnv = {};
      for (const [name, value] of Object.entries(process.env)) {
        if (!name.startsWith('TESSERA_')) childEnv[name] = value;
      }
      const child = spawn(process.execPath, [CLI, 'serve'], {
        env: {
          ...childEnv,
          TESSERA_HOST: '127.0.0.1',
          TESSERA_LOG_LEVEL: 'warn',
          ...env,
          TESSERA_PORT: String(port),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const server = new ServerProcess(`http://127.0.0.1:${port}`, child);
      let gone = false;
      void server.exited.then(() => (gone = true));
      const deadline = Date.now() + 20_000;
      while (!gone && Date.now() < deadline) {
        try {
          const ready = await fetch(`${server.url}/readyz`);
          await ready.arrayBuffer();
          if (ready.status === 200) return server;
        } catch {
          // Not listening yet.
        }
        await sleep(50);
      }
      child.kill('SIGKILL');
      await server.exited;
      failure = server.problems.join('\n');
      if (!/EADDRINUSE/.test(failure)) break;
    }
    throw new Error(`tessera serve did not become ready:\n${failure}`);
  }

  /** Resident memory in bytes: /proc on Linux, else the server's own `/metrics`. */
  async rss(): Promise<number | undefined> {
    try {
      const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
      const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
      if (kb !== undefined) return Number(kb) * 1024;
    } catch {
      // Not Linux, or the process is gone: ask the server.
    }
    try {
      const text = await (await fetch(`${this.url}/metrics`)).text();
      const value = /^process_resident_memory_bytes (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(text)?.[1];
      return value === undefined ? undefined : Number(value);
    } catch {
      return undefined;
    }
  }

  /** SIGTERM, and the exit code of the graceful shutdown (SIGKILL after 30 s). */
  async stop(): Promise<number | null> {
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

async function freePort(): Promise<number> {
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
