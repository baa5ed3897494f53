import type { TestContext } from 'node:test';
import {
  PASSWORD,
  startServer,
  uniqueEmail,
  type TestServer,
} from '../../../server/test/helpers/test-server.ts';
import { createClient, type ClientOptions, type TesseraClient } from '../../src/index.ts';
import { ManualClock, recordingFetch } from './fakes.ts';

export { PASSWORD, uniqueEmail };

export interface Setup {
  /** A real Tessera server on loopback; `server.clock` is the server's time. */
  server: TestServer;
  /** The SDK's time and timers, separate from the server's. */
  clock: ManualClock;
  net: ReturnType<typeof recordingFetch>;
  email: string;
  /** Another client on the same server, clock and network: another tab or device. */
  newClient: (options?: Partial<ClientOptions>) => TesseraClient;
}

/** A real server and a signed-up account; everything is closed after the test. */
export async function setup(
  t: TestContext,
  options: { env?: Record<string, string>; clockOffset?: number } = {},
): Promise<Setup> {
  const server = await startServer(options.env);
  const clock = new ManualClock(server.clock.now() + (options.clockOffset ?? 0));
  const net = recordingFetch();
  const clients: TesseraClient[] = [];
  t.after(async () => {
    for (const client of clients) client.close();
    await server.close();
  });
  const newClient = (extra: Partial<ClientOptions> = {}): TesseraClient => {
    const client = createClient({ baseUrl: server.url, fetch: net.fetch, clock, crossTab: false, ...extra });
    clients.push(client);
    return client;
  };
  const email = uniqueEmail('sdk');
  await newClient().signup({ email, password: PASSWORD });
  net.requests.length = 0;
  return { server, clock, net, email, newClient };
}

/** `setup`, then one client logged in with "keep me logged in". */
export async function loggedIn(
  t: TestContext,
  options: { env?: Record<string, string>; clockOffset?: number; client?: Partial<ClientOptions> } = {},
): Promise<Setup & { client: TesseraClient }> {
  const context = await setup(t, options);
  const client = context.newClient(options.client);
  await client.login({ email: context.email, password: PASSWORD, remember: true });
  context.net.requests.length = 0;
  return { ...context, client };
}
