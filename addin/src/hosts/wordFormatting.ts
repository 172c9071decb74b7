// An answer on its way into Word keeps the formatting the pane shows: the same Markdown renderer and sanitiser
// (renderMarkdown) make the HTML that Word imports with insertHtml, so headings become Word's Heading styles, lists
// become Word lists, and bold, italic, code and links become character formatting. Raw HTML in the answer was escaped
// to text by the renderer: what the model wrote stays document text, never markup. An answer with no Markdown at all
// is written as plain text, as it always was.
import { renderMarkdown } from "../ui/markdown";

/** What plain text renders to: paragraphs and line breaks, nothing a plain-text write would lose. */
const PLAIN_ELEMENTS = new Set(["P", "BR"]);

/** The HTML to write for a Markdown answer, or null when the answer has no formatting to keep. */
export function answerHtml(markdown: string): string | null {
  const html = renderMarkdown(markdown);
  const parsed = document.createElement("template"); // inert: nothing in it loads or runs
  parsed.innerHTML = html;
  const formatted = [...parsed.content.querySelectorAll("*")].some((element) => !PLAIN_ELEMENTS.has(element.tagName));
  return formatted ? html : null;
}
