import { escapeHtml } from '../common/html';
import type { Mail } from '../mail/mail-transport';

interface LinkMail {
  to: string;
  subject: string;
  /** Sentences before the link: why this mail came. */
  why: string;
  /** What the button and the sentence before the link say to do. */
  action: string;
  link: string;
  /** Sentences after the link: how long it works, and what to do if this was not you. */
  after: string[];
}

/** One mail in two parts that say the same: plain text, and simple HTML that every mail client shows. */
function linkMail({ to, subject, why, action, link, after }: LinkMail): Mail {
  const text = [why, '', `${action}, open this link:`, link, '', ...after, '', '-- Posts API'].join('\n');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(subject)}</title></head>
<body style="font-family: system-ui, sans-serif; line-height: 1.5; color: #1a1a1a; max-width: 36rem; margin: 0 auto; padding: 1rem;">
<p>${escapeHtml(why)}</p>
<p><a href="${escapeHtml(link)}" style="display: inline-block; padding: 0.6rem 1rem; background: #1d4ed8; color: #ffffff; text-decoration: none; border-radius: 0.3rem;">${escapeHtml(action)}</a></p>
<p>If the button does not work, copy this address into your browser:<br><span style="word-break: break-all;">${escapeHtml(link)}</span></p>
${after.map((line) => `<p>${escapeHtml(line)}</p>`).join('\n')}
<p>-- Posts API</p>
</body></html>`;
  return { to, subject, text, html };
}

export function verificationMail(to: string, link: string, hours: number): Mail {
  return linkMail({
    to,
    subject: 'Confirm your e-mail address',
    why: `Someone, probably you, gave ${to} as the e-mail address of an account of the Posts API.`,
    action: 'Confirm this address',
    link,
    after: [
      `The link works once, for ${hours} hours.`,
      'If you did not ask for this, ignore this mail: nothing happens unless the link is opened.',
    ],
  });
}

export function passwordResetMail(to: string, link: string, minutes: number): Mail {
  return linkMail({
    to,
    subject: 'Reset your password',
    why: `Someone, probably you, asked to reset the password of the Posts API account of ${to}.`,
    action: 'Choose a new password',
    link,
    after: [
      `The link works once, for ${minutes} minutes; setting a new password logs out every device.`,
      'If you did not ask for this, ignore this mail: your password stays as it is.',
    ],
  });
}
