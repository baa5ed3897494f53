import { randomBytes, randomUUID } from 'node:crypto';
import { SqliteStore } from '@tessera/server';
import { defineCase } from '../case.ts';
import { count, ms, spread, table, times } from '../format.ts';
import { compareLoads, loadPlan, type LoadSummary } from '../load/load.ts';
import { ratio } from '../stats.ts';
import type { TesseraProcess } from '../servers/tessera.ts';
import { login, signup, startTessera } from '../servers/tessera.ts';

/** One server's load while its database holds a backlog of dead sessions. */
interface Row {
  name: string;
  cleanupInterval: string;
  load: LoadSummary;
}

export interface CleanupResult {
  backlog: number;
  connections: number;
  duration: number;
  runs: number;
  rows: Row[];
  /** Requests/s with the job sweeping, against the same server with it idle. */
  throughput: number | undefined;
  /** p99 with the job sweeping, against the same server with it idle. */
  p99: number | undefined;
}

const EMAIL = 'bench@example.test';
const DAY = 86_400_000;

/**
 * Dead sessions written straight into the server's SQLite file (a second writer on the file, as
 * the CLI is): long expired, each with its refresh token, the rows a busy deployment leaves behind.
 */
async function addBacklog(tessera: TesseraProcess, sessions: number): Promise<void> {
  const store = SqliteStore.open(tessera.databaseUrl.slice('sqlite:'.length));
  try {
    const user = await store.getUserByEmail(EMAIL);
    if (!user) throw new Error('the benchmark user is missing');
    const long = Date.now() - 30 * DAY;
    for (let done = 0; done < sessions; done += 1000) {
      await Promise.all(
        Array.from({ length: Math.min(1000, sessions - done) }, () => {
          const session = {
            id: randomUUID(),
            userId: user.id,
            createdAt: long,
            lastUsedAt: long,
            expiresAt: long + DAY,
            idleExpiresAt: long + DAY,
            accessExpiresAt: long + 15 * 60_000,
            revokedAt: null,
            revokeReason: null,
            userAgent: 'Mozilla/5.0 (X11; Linux x86_64) bench',
            ip: '127.0.0.1',
            amr: ['pwd'],
            authTime: long,
          };
          const token = {
            hash: randomBytes(32).toString('base64url'),
            sessionId: session.id,
            parentHash: null,
            createdAt: long,
            expiresAt: long + DAY,
            consumedAt: null,
            successorHash: null,
            successorSealed: null,
          };
          return store.createSession(session, token, user);
        }),
      );
    }
  } finally {
    await store.close();
  }
}

export const cleanupCase = defineCase<CleanupResult>({
  name: 'cleanup',
  title: "The cleanup job's cost on requests",
  command: 'npm run bench -- cleanup',
  async run(context) {
    const plan = loadPlan(context.quick, 50, 5);
    const backlog = context.quick ? 2000 : 20_000;
    // Identical servers but for the sweep: every second on one, never during the run on the other.
    const settings = [
      { name: 'sweeping', cleanupInterval: '1s' },
      { name: 'idle', cleanupInterval: '1d' },
    ];
    const servers: TesseraProcess[] = [];
    try {
      const targets = [];
      for (const { name, cleanupInterval } of settings) {
        const tessera = await startTessera({ TESSERA_CLEANUP_INTERVAL: cleanupInterval });
        servers.push(tessera);
        await signup(tessera.url, EMAIL);
        const { accessToken } = await login(tessera.url, EMAIL);
        targets.push({
          name,
          pid: tessera.pid,
          // Before every run: a fresh backlog, so the sweeping server deletes while it is loaded.
          before: () => addBacklog(tessera, backlog),
          options: (duration: number) => ({
            url: `${tessera.url}/auth/me`,
            connections: plan.connections,
            duration,
            headers: { authorization: `Bearer ${accessToken}` },
          }),
        });
      }
      context.log(
        `cleanup: ${backlog} dead sessions added before each run; ${plan.runs} runs of ${plan.duration} s at ${plan.connections} connections`,
      );
      const results = await compareLoads(targets, plan, context.log);
      const rows = settings.map(({ name, cleanupInterval }) => ({
        name,
        cleanupInterval,
        load: results.get(name) as LoadSummary,
      }));
      const [sweeping, idle] = rows;
      return {
        backlog,
        connections: plan.connections,
        duration: plan.duration,
        runs: plan.runs,
        rows,
        throughput: ratio(sweeping!.load.requestsPerSecond.median, idle!.load.requestsPerSecond.median),
        p99: ratio(sweeping!.load.p99, idle!.load.p99),
      };
    } finally {
      await Promise.all(servers.map((server) => server.stop()));
    }
  },
  render(result) {
    return [
      `Two Tessera servers on SQLite, identical but for \`TESSERA_CLEANUP_INTERVAL\` (\`1s\`: the job sweeps during every run; \`1d\`: it never runs). Before each run, ${count(result.backlog)} long-expired sessions with their refresh tokens are written into each server's file; then \`GET /auth/me\` at ${result.connections} connections, ${result.runs} interleaved runs of ${result.duration} s, medians. The sweeping server deletes the backlog (batches of 200 rows of each kind, a turn of the event loop between them, an incremental vacuum in each) while it answers.`,
      '',
      table(
        ['server', 'cleanup interval', 'req/s (median)', 'spread', 'p50 ms', 'p99 ms', 'failed'],
        result.rows.map((row) => [
          row.name,
          row.cleanupInterval,
          count(row.load.requestsPerSecond.median),
          spread(row.load.requestsPerSecond),
          ms(row.load.p50),
          ms(row.load.p99),
          String(row.load.failures),
        ]),
      ),
      '',
      `Sweeping against idle: ${times(result.throughput)} the requests/s, ${times(result.p99)} the p99 latency.`,
    ].join('\n');
  },
});
