// Answers are Markdown written by a model: render them, but never let raw HTML or script through. Raw HTML in the
// source is shown as text, and DOMPurify cleans whatever the renderer produced.
import DOMPurify from "dompurify";
import { Marked } from "marked";

const marked = new Marked({
  gfm: true,
  breaks: true,
  async: false,
  renderer: {
    /** Raw HTML blocks and inline tags are escaped, not rendered. */
    html({ text }) {
      return escapeHtml(text);
    },
  },
});

/** Safe HTML for a Markdown answer; links open outside the pane. */
export function renderMarkdown(markdown: string): string {
  const html = marked.parse(markdown) as string;
  const clean = DOMPurify.sanitize(html, {
    USE_PROFILES: { html: true },
    FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select", "iframe", "img", "svg", "math"],
    FORBID_ATTR: ["style", "class", "id"],
    ALLOWED_URI_REGEXP: /^(?:https?:|mailto:)/i,
  });
  return clean.replace(/<a /g, '<a target="_blank" rel="noopener noreferrer" ');
}

/** Escape the five characters that matter in HTML text and attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string);
}
