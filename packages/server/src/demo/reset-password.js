// The page an emailed reset link opens (issue 13). The token is in the URL's fragment, which the
// browser never sends: it is read here, taken out of the address bar and history at once, and
// spent only by the POST below, when the person submits a new password. A mail scanner that
// follows the link loads this page and spends nothing (SECURITY.md REC-04).
const token = new URLSearchParams(location.hash.slice(1)).get('token');
history.replaceState(null, '', location.pathname);

const form = document.getElementById('reset-form');
const status = document.getElementById('reset-status');
const submit = document.getElementById('reset-submit');

if (!token) {
  status.textContent = 'This link has no reset token. Ask for a new link from the sign-in page.';
  submit.disabled = true;
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (!token) return;
  submit.disabled = true;
  status.textContent = 'Saving…';
  const newPassword = document.getElementById('new-password').value;
  try {
    const response = await fetch('/auth/password/reset', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, newPassword }),
    });
    if (response.status === 204) {
      status.textContent = 'Your password is changed. Sign in with it now.';
      form.hidden = true;
      return;
    }
    const body = await response.json().catch(() => ({}));
    status.textContent = body.message ?? `The password was not changed (${response.status}).`;
    // A weak password leaves the link usable: let the person try another.
    submit.disabled = body.error === 'invalid_link';
  } catch {
    status.textContent = 'The server could not be reached. Try again.';
    submit.disabled = false;
  }
});
