import { createHash } from 'node:crypto';
import { escapeHtml } from '../common/html';
import { PASSWORD_MAX_BYTES, PASSWORD_MIN_BYTES } from '../common/identity/password.validator';

/**
 * The two pages a person reaches from a mail. Plain HTML: no script, nothing from
 * another origin, one inline style allowed by its hash; readable on a phone.
 */
const STYLE = `
  :root { color-scheme: light dark; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; line-height: 1.5; }
  body { margin: 0; padding: 1.25rem; }
  main { max-width: 28rem; margin: 2rem auto; }
  h1 { font-size: 1.5rem; line-height: 1.25; margin: 0 0 1rem; }
  p { margin: 0 0 1rem; }
  .outcome { padding: 0.75rem 1rem; border-radius: 0.375rem; border: 1px solid; }
  .outcome.ok { border-color: #15803d; }
  .outcome.problem { border-color: #b91c1c; }
  label { display: block; font-weight: 600; margin: 1rem 0 0.25rem; }
  input { box-sizing: border-box; width: 100%; font: inherit; padding: 0.625rem; border: 1px solid #6b7280; border-radius: 0.375rem; }
  button { margin-top: 1.25rem; width: 100%; font: inherit; font-weight: 600; padding: 0.75rem; border: 0; border-radius: 0.375rem; background: #1d4ed8; color: #fff; cursor: pointer; }
  .hint { font-size: 0.875rem; opacity: 0.8; margin-top: 0.25rem; }
`;

/** The page's policy: only its own style and forms that post back here. */
export const PAGE_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The headers of every page: its policy, nothing cached, the token in its address sent nowhere. */
export const PAGE_HEADERS: Record<string, string> = {
  'Content-Type': 'text/html; charset=utf-8',
  'Content-Security-Policy': PAGE_CONTENT_SECURITY_POLICY,
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
};

export interface Page {
  status: number;
  html: string;
}

interface PageContent {
  title: string;
  /** The outcome, said in words; `ok` colours it as success. */
  outcome?: { ok: boolean; text: string };
  paragraphs?: string[];
  /** Already-escaped HTML after the paragraphs (the form). */
  body?: string;
}

function render({ title, outcome, paragraphs = [], body = '' }: PageContent): string {
  const outcomeHtml = outcome
    ? `<p class="outcome ${outcome.ok ? 'ok' : 'problem'}" role="${outcome.ok ? 'status' : 'alert'}">${escapeHtml(outcome.text)}</p>`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)} · Posts API</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${outcomeHtml}
${paragraphs.map((text) => `<p>${escapeHtml(text)}</p>`).join('\n')}
${body}
</main>
</body>
</html>
`;
}

const BAD_LINK_RESET =
  'This link does not work: it was already used, a newer one was sent, or it expired. Ask for a new one where you asked for this one (POST /auth/password-reset).';

/**
 * Where the form posts: the path of PUBLIC_URL (a prefix, when the service sits under one
 * behind a proxy) and the route. Absolute, so the form works whichever address served
 * the page (with or without a trailing slash, or the answer to a refused try).
 */
export function formAction(publicUrl: string): string {
  return `${new URL(publicUrl).pathname.replace(/\/+$/, '')}/auth/password-reset/page`;
}

export function emailVerifiedPage(): Page {
  return {
    status: 200,
    html: render({
      title: 'E-mail address confirmed',
      outcome: { ok: true, text: 'Your e-mail address is confirmed. Thank you.' },
      paragraphs: ['There is nothing more to do here: you can close this page.'],
    }),
  };
}

export function emailNotVerifiedPage(): Page {
  return {
    status: 400,
    html: render({
      title: 'This link does not work',
      outcome: {
        ok: false,
        text: 'Your e-mail address was not confirmed by this link: it was already used, a newer one was sent, or it expired.',
      },
      paragraphs: [
        'If you already confirmed your address, there is nothing more to do. Otherwise ask for a new link (POST /auth/verify-email/resend while logged in) and open the newest mail.',
      ],
    }),
  };
}

/**
 * The form that sets a new password, posting to `action` (the path of
 * POST /auth/password-reset/page as people reach it, see `formAction`); `problem` says
 * what was wrong with the last try.
 */
export function newPasswordFormPage(action: string, token: string, problem?: string): Page {
  const form = `<form method="post" action="${escapeHtml(action)}">
<input type="hidden" name="token" value="${escapeHtml(token)}">
<label for="new_password">New password</label>
<input id="new_password" name="new_password" type="password" autocomplete="new-password" minlength="${PASSWORD_MIN_BYTES}" maxlength="${PASSWORD_MAX_BYTES}" required autofocus>
<p class="hint">${PASSWORD_MIN_BYTES} to ${PASSWORD_MAX_BYTES} bytes: a few words you can remember make a good one.</p>
<label for="new_password_again">The new password again</label>
<input id="new_password_again" name="new_password_again" type="password" autocomplete="new-password" minlength="${PASSWORD_MIN_BYTES}" maxlength="${PASSWORD_MAX_BYTES}" required>
<button type="submit">Set the new password</button>
</form>`;
  return {
    status: problem ? 422 : 200,
    html: render({
      title: 'Choose a new password',
      outcome: problem ? { ok: false, text: problem } : undefined,
      paragraphs: ['Type the new password twice. Setting it logs you out everywhere; then log in with it.'],
      body: form,
    }),
  };
}

export function passwordResetDonePage(): Page {
  return {
    status: 200,
    html: render({
      title: 'Password changed',
      outcome: { ok: true, text: 'Your new password is set.' },
      paragraphs: [
        'Every device that was logged in to your account has been logged out. Log in again with your new password.',
      ],
    }),
  };
}

export function badResetLinkPage(): Page {
  return {
    status: 400,
    html: render({
      title: 'This link does not work',
      outcome: { ok: false, text: 'Your password was not changed.' },
      paragraphs: [BAD_LINK_RESET],
    }),
  };
}
