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

submit.addEventListener('click', async () => {
  if (!token) return;
  submit.disabled = true;
  status.textContent = 'One moment…';
  try {
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    const body = await response.json().catch(() => ({}));
    if (response.ok) {
      status.textContent = done.replace('{email}', body.user?.email ?? '');
      // A sign-in in cookie mode left the session cookies: the demo page picks the session up.
      if (body.user && !('accessToken' in body) && 'expiresIn' in body) location.assign('/');
      return;
    }
    status.textContent = body.message ?? `That did not work (${response.status}).`;
    submit.disabled = body.error === 'invalid_link';
  } catch {
    status.textContent = 'The server could not be reached. Try again.';
    submit.disabled = false;
  }
});
