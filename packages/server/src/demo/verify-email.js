// The page an emailed verification link opens (issue 13). As on the reset page, the token is in
// the fragment and is spent only by the POST below, when the person presses Confirm: a mail
// scanner that follows the link, even one that runs scripts, confirms nothing (SECURITY.md REC-04).
// Otherwise anyone could sign up with someone else's address and let that mailbox's scanner
// verify it for them.
const token = new URLSearchParams(location.hash.slice(1)).get('token');
history.replaceState(null, '', location.pathname);

const status = document.getElementById('verify-status');
const submit = document.getElementById('verify-submit');

if (!token) {
  status.textContent = 'This link has no token. Sign in and ask for a new one.';
  submit.disabled = true;
}

submit.addEventListener('click', async () => {
  if (!token) return;
  submit.disabled = true;
  status.textContent = 'Confirming…';
  try {
    const response = await fetch('/auth/email/verify', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    const body = await response.json().catch(() => ({}));
    if (response.ok) {
      status.textContent = `Your address ${body.user?.email ?? ''} is confirmed.`;
      return;
    }
    status.textContent = body.message ?? `The address was not confirmed (${response.status}).`;
    submit.disabled = body.error === 'invalid_link';
  } catch {
    status.textContent = 'The server could not be reached. Try again.';
    submit.disabled = false;
  }
});
