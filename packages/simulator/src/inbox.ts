import type { SimulatedMessage } from "./types.js";

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => HTML_ESCAPES[character] ?? character);
}

/** Renders the inbox page: accepted messages, newest first, reloaded every 2 seconds. */
export function renderInbox(messages: readonly SimulatedMessage[]): string {
  const rows = [...messages]
    .reverse()
    .map(
      (message) =>
        `<tr><td>${escapeHtml(message.receivedAt)}</td><td>${escapeHtml(message.provider)}</td>` +
        `<td>${escapeHtml(message.to)}</td><td>${escapeHtml(message.from)}</td><td class="body">${escapeHtml(message.body)}</td></tr>`,
    )
    .join("\n");
  const table =
    messages.length === 0
      ? "<p>No messages yet.</p>"
      : `<table><thead><tr><th>Time</th><th>Provider</th><th>To</th><th>From</th><th>Body</th></tr></thead>\n<tbody>\n${rows}\n</tbody></table>`;

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="2">
<title>otpin simulator inbox</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: 0.4rem 0.6rem; text-align: left; vertical-align: top; }
td.body { white-space: pre-wrap; font-family: ui-monospace, monospace; }
</style>
</head>
<body>
<h1>Simulator inbox (${messages.length})</h1>
${table}
</body>
</html>
`;
}
