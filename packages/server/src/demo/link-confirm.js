// The pages emailed links open (issue 13): verify-email, confirm-email and sign-in. As on the
// reset page, the token is in the fragment and is spent only by the POST below, when the person
// presses the button: a mail scanner that follows the link, even one that runs scripts, spends
// nothing (SECURITY.md REC-04). Otherwise anyone could sign up with someone else's address and
// let that mailbox's scanner verify it for them. Each page names its endpoint on <body>.
const token = new URLSearchParams(location.hash.slice(1)).get('token');
history.replaceState(null, '', location.pathname);

const { endpoint, done } = document.body.dataset;
const status = document.getElementById('link-status');
const submit = document.getElementById('link-submit');

if (!token) {
  status.textContent = 'This link has no token. Ask for a new one.';
  submit.disabled = true;
}

// A sign-in of an account with a second factor stops at it (issue 14): the page then asks for
// the code and finishes with `/auth/mfa/verify` (only the sign-in page has that form).
const mfaForm = document.getElementById('mfa-form');
let mfaToken = null;

async function post(path, payload) {
  const response = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  });
  return { response, body: await response.json().catch(() => ({})) };
}

function succeeded(body) {
  status.textContent = done.replace('{email}', body.user?.email ?? '');
  // A sign-in in cookie mode left the session cookies: the demo page picks the session up.
  if (body.user && !('accessToken' in body) && 'expiresIn' in body) location.assign('/');
}

submit.addEventListener('click', async () => {
  if (!token) return;
  submit.disabled = true;
  status.textContent = 'One moment…';
  try {
    const { response, body } = await post(endpoint, { token });
    if (response.ok) return succeeded(body);
    status.textContent = body.message ?? `That did not work (${response.status}).`;
    if (body.error === 'mfa_required' && mfaForm) {
      mfaToken = body.mfaToken;
      status.textContent = 'Enter the code your authenticator app shows, or a recovery code.';
      mfaForm.hidden = false;
      document.getElementById('mfa-code').focus();
      return;
    }
    submit.disabled = body.error === 'invalid_link';
  } catch {
    status.textContent = 'The server could not be reached. Try again.';
    submit.disabled = false;
  }
});

mfaForm?.addEventListener('submit', async (event) => {
  event.preventDefault();
  const code = document.getElementById('mfa-code').value.trim();
  try {
    const { response, body } = await post('/auth/mfa/verify', { mfaToken, code });
    if (response.ok) return succeeded(body);
    status.textContent = body.message ?? `That did not work (${response.status}).`;
  } catch {
    status.textContent = 'The server could not be reached. Try again.';
  }
});
