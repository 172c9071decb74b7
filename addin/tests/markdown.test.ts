import { describe, expect, it } from "vitest";
import { renderMarkdown } from "../src/ui/markdown";

describe("renderMarkdown", () => {
  it("renders ordinary Markdown", () => {
    const html = renderMarkdown("# Title\n\n- **bold** item\n- `code`");
    expect(html).toContain("<h1>Title</h1>");
    expect(html).toContain("<strong>bold</strong>");
    expect(html).toContain("<code>code</code>");
  });

  it("shows raw HTML as text instead of rendering it", () => {
    const html = renderMarkdown('Hi <img src=x onerror="alert(1)"> and <script>alert(2)</script>');
    const doc = new DOMParser().parseFromString(html, "text/html");
    expect(doc.querySelectorAll("img, script").length).toBe(0);
    expect(html).not.toMatch(/<img|<script/);
    expect(doc.body.textContent).toContain("<script>alert(2)</script>"); // the user sees what the model wrote
  });

  it("drops javascript: links but keeps https links, opened outside the pane", () => {
    const html = renderMarkdown("[bad](javascript:alert(1)) [good](https://example.com)");
    expect(html).not.toContain("javascript:");
    expect(html).toContain('<a href="https://example.com" target="_blank" rel="noopener noreferrer">good</a>');
  });

  it("shows where a link goes when its words do not say it", () => {
    const html = renderMarkdown("[your invoice](https://evil.example/?d=secret) and [intranet.example/policy](https://intranet.example/policy)");
    const doc = new DOMParser().parseFromString(html, "text/html");
    expect(doc.body.textContent?.trim()).toBe("your invoice (evil.example) and intranet.example/policy");
  });

  it("leaves bare URLs and addresses as text: only Markdown links the backend kept (OUTPUT_LINK_HOSTS) are links", () => {
    const html = renderMarkdown("Open https://evil.example/c?d=secret or www.evil.example, mail a@evil.example, <https://evil.example/x>.");
    const doc = new DOMParser().parseFromString(html, "text/html");
    expect(doc.querySelectorAll("a").length).toBe(0);
    expect(doc.body.textContent).toContain("https://evil.example/c?d=secret");
    expect(renderMarkdown("[the policy](https://intranet.example/policy)")).toContain('href="https://intranet.example/policy"');
  });

  it("renders an unfinished stream without throwing", () => {
    expect(() => renderMarkdown("```js\nconst a = 1")).not.toThrow();
  });
});
