// The demo page: the client SDK in cookie mode, and nothing else. Plain JavaScript so the page
// runs from a clean clone with no build step; the server maps `@tessera/client` to the SDK it
// runs with (its dist/ when installed, its sources with types stripped in the repository).
import { createClient } from '@tessera/client';

// Activity is the person's input, not the page's own polling: an unattended tab lets its access
// token lapse after five minutes, and the next click or key press refreshes it first.
const client = createClient({
  baseUrl: location.origin,
  mode: 'cookie',
  activityEvents: true,
  activityFromRequests: false,
  idleTimeout: 5 * 60_000,
});
const $ = (id) => document.getElementById(id);
let tokenExp = 0;
// The mfaToken of a sign-in stopped at its second step, for the code form.
let pendingMfa = null;

function log(text, isError = false) {
  const item = document.createElement('li');
  item.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
  if (isError) item.className = 'error';
  $('log').prepend(item);
}

function show(signedIn) {
  $('signed-in').hidden = !signedIn;
  $('signed-out').hidden = signedIn;
}

async function render() {
  const user = await client.me();
  $('user-email').textContent = user.email;
  const response = await client.fetch('/auth/token');
  const { header, claims } = await response.json();
  tokenExp = claims.exp * 1000;
  $('token-header').textContent = JSON.stringify(header, null, 2);
  $('token-claims').textContent = JSON.stringify(claims, null, 2);
  await renderSessions();
  await renderMfa();
  show(true);
  tick();
}

async function renderMfa() {
  const { totp, recoveryCodesLeft } = await client.mfaStatus();
  $('mfa-state').textContent =
    totp === 'active' ? `On: an authenticator app (${recoveryCodesLeft} recovery codes left)` : 'Off';
  $('totp-form').hidden = totp === 'active';
}

/** Runs a first factor; when the account has a second one, asks for its code instead. */
async function signIn(firstFactor) {
  try {
    await firstFactor();
    return true;
  } catch (error) {
    if (error?.code !== 'mfa_required') throw error;
    pendingMfa = error.mfaToken;
    $('mfa-form').hidden = false;
    $('mfa-code').focus();
    log('Second factor required');
    return false;
  }
}

async function renderSessions() {
  const body = $('sessions');
  body.replaceChildren();
  for (const session of await client.sessions()) {
    const row = document.createElement('tr');
    for (const text of [
      new Date(session.createdAt).toLocaleString(),
      new Date(session.lastUsedAt).toLocaleString(),
      `${session.userAgent ?? 'unknown'}${session.current ? ' (this one)' : ''}`,
    ]) {
      const cell = document.createElement('td');
      cell.textContent = text;
      row.append(cell);
    }
    const action = document.createElement('td');
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = session.current ? 'Revoke (log out here)' : 'Revoke';
    button.setAttribute(
      'aria-label',
      `Revoke the session started ${new Date(session.createdAt).toLocaleString()}`,
    );
    button.addEventListener('click', () =>
      run(async () => {
        await client.revokeSession(session.id);
        log(`Revoked session ${session.id.slice(0, 8)}…`);
        if (session.current) await client.logout();
        else await renderSessions();
      }),
    );
    action.append(button);
    row.append(action);
    body.append(row);
  }
}

function tick() {
  const left = Math.max(0, Math.round((tokenExp - client.serverTime()) / 1000));
  $('countdown').textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
}

async function run(action) {
  try {
    await action();
  } catch (error) {
    log(error instanceof Error ? error.message : String(error), true);
  }
}

function credentials() {
  return { email: $('email').value, password: $('password').value };
}

client.on('start', () => log('Session started'));
client.on('refresh', ({ byOtherTab }) => {
  log(byOtherTab ? 'Access token refreshed by another tab' : 'Access token refreshed automatically');
  void run(render);
});
client.on('idle', () => log('Idle: the access token will lapse; your next action refreshes it'));
client.on('end', ({ reason }) => {
  log(`Session ended (${reason})`);
  show(false);
});

$('auth-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void run(async () => {
    if (await signIn(() => client.login({ ...credentials(), remember: $('remember').checked })))
      await render();
  });
});
$('mfa-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void run(async () => {
    await client.verifyMfa({ mfaToken: pendingMfa, code: $('mfa-code').value.trim() });
    pendingMfa = null;
    $('mfa-code').value = '';
    $('mfa-form').hidden = true;
    await render();
  });
});
$('totp-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void run(async () => {
    const { secret, qrCode } = await client.enrolTotp($('totp-password').value);
    $('totp-password').value = '';
    $('totp-qr').src = qrCode;
    $('totp-secret').textContent = secret;
    $('totp-enrol').hidden = false;
    $('totp-code').focus();
  });
});
$('totp-confirm-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void run(async () => {
    const codes = await client.confirmTotp($('totp-code').value.trim());
    $('totp-code').value = '';
    $('totp-enrol').hidden = true;
    $('recovery-codes').replaceChildren(
      ...codes.map((code) => Object.assign(document.createElement('li'), { textContent: code })),
    );
    $('recovery').hidden = false;
    log('Two-factor authentication turned on; other sessions ended');
    await render();
  });
});
$('signup').addEventListener('click', () =>
  run(async () => {
    const name = $('name').value.trim();
    await client.signup({ ...credentials(), ...(name ? { name } : {}) });
    log('Account created');
    await client.login({ ...credentials(), remember: $('remember').checked });
    await render();
  }),
);
$('forgot').addEventListener('click', () =>
  run(async () => {
    await client.forgotPassword($('email').value);
    $('forgot-status').hidden = false;
    log('Password reset asked for');
  }),
);
$('email-code').addEventListener('click', () =>
  run(async () => {
    await client.requestEmailCode({ email: $('email').value, remember: $('remember').checked });
    $('code-form').hidden = false;
    $('code').focus();
    log('Sign-in code asked for');
  }),
);
$('code-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void run(async () => {
    const email = $('email').value;
    const done = await signIn(() => client.loginWithEmailCode({ email, code: $('code').value.trim() }));
    $('code-form').hidden = true;
    if (done) await render();
  });
});
$('email-change-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void run(async () => {
    await client.changeEmail({ newEmail: $('new-email').value, password: $('change-password').value });
    $('change-password').value = '';
    log('Email change asked for: confirm it with the link mailed to the new address');
  });
});
$('logout').addEventListener('click', () => run(() => client.logout()));
$('logout-all').addEventListener('click', () => run(() => client.logoutAll()));

setInterval(tick, 1000);
void run(async () => {
  if (await client.resume()) await render();
  else show(false);
});
