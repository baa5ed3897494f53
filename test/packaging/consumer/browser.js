// Bundled by esbuild for the browser, then run in Chromium: sign up, log in, read the profile.
import { createClient } from '@tessera/client';

const tessera = new URLSearchParams(location.search).get('tessera');
const auth = createClient({ baseUrl: tessera });
const email = `browser-${Date.now()}@example.test`;
const password = 'a long passphrase for the packaging test';
try {
  await auth.signup({ email, password });
  await auth.login({ email, password });
  const me = await auth.me();
  window.result = { email: me.email };
} catch (error) {
  window.result = { error: String(error) };
}
