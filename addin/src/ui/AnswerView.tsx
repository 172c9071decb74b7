// The answer as it streams in, rendered from Markdown through the sanitiser; announced politely to screen readers.
import { useMemo } from "react";
import { renderMarkdown } from "./markdown";

export function AnswerView({ text, streaming }: { text: string; streaming: boolean }) {
  const html = useMemo(() => renderMarkdown(text), [text]);
  return (
    <div
      className="answer"
      data-testid="answer"
      data-streaming={streaming ? "true" : "false"}
      aria-live="polite"
      aria-busy={streaming}
      tabIndex={0}
      // The HTML comes from renderMarkdown, which escapes raw HTML and runs DOMPurify.
      dangerouslySetInnerHTML={{ __html: html }}
    />
  );
}
