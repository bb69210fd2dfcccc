import { isGsm7 } from "./sms-encoding.js";

export interface TemplateInput {
  code: string;
  appName: string;
  ttlSeconds: number;
  locale?: string | undefined;
}

export interface EmailContent {
  subject: string;
  text: string;
  html: string;
}

function validityMinutes(ttlSeconds: number): number {
  return Math.max(1, Math.round(ttlSeconds / 60));
}

/**
 * Renders the SMS body. Only English ships today, so every locale gets it; the text stays
 * GSM-7 and within one segment for a 10-digit code and a 30-character app name.
 */
export function renderSms(input: TemplateInput): string {
  const minutes = validityMinutes(input.ttlSeconds);
  const unit = minutes === 1 ? "minute" : "minutes";
  const body = `Your ${input.appName} code is ${input.code}. It expires in ${minutes} ${unit}. Do not share it.`;
  if (!isGsm7(body)) throw new Error("SMS template rendered characters outside GSM-7; check APP_NAME");
  return body;
}

const escapeHtml = (value: string) =>
  value.replace(/[&<>"']/g, (char) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[char] ?? char);

/** Renders the email fallback: a plain-text and an HTML body carrying the same code. */
export function renderEmail(input: TemplateInput): EmailContent {
  const minutes = validityMinutes(input.ttlSeconds);
  const unit = minutes === 1 ? "minute" : "minutes";
  const app = escapeHtml(input.appName);
  return {
    subject: `Your ${input.appName} verification code`,
    text: `Your ${input.appName} code is ${input.code}.\n\nIt expires in ${minutes} ${unit}. Do not share it with anyone.\n`,
    html:
      `<!doctype html><html><body style="font-family:sans-serif">` +
      `<p>Your ${app} code is</p><p style="font-size:28px;font-weight:bold;letter-spacing:4px">${escapeHtml(input.code)}</p>` +
      `<p>It expires in ${minutes} ${unit}. Do not share it with anyone.</p></body></html>`,
  };
}
