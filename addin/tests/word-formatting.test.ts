import { describe, expect, it } from "vitest";
import { answerHtml } from "../src/hosts/wordFormatting";

/** The HTML Word would import, parsed inertly, to look at what it holds. */
function parse(html: string | null): DocumentFragment {
  const template = document.createElement("template");
  template.innerHTML = html ?? "";
  return template.content;
}

describe("answerHtml", () => {
  it("turns headings, lists, emphasis and code into HTML elements Word imports as formatting", () => {
    const html = answerHtml("# Plan\n\n## Steps\n\n- **Hire** two engineers\n- open *Madrid*\n\n1. first\n2. second\n\nRun `make`.");
    const doc = parse(html);
    expect(doc.querySelector("h1")?.textContent).toBe("Plan");
    expect(doc.querySelector("h2")?.textContent).toBe("Steps");
    expect([...doc.querySelectorAll("ul > li")].map((li) => li.textContent)).toEqual(["Hire two engineers", "open Madrid"]);
    expect([...doc.querySelectorAll("ol > li")].map((li) => li.textContent)).toEqual(["first", "second"]);
    expect(doc.querySelector("strong")?.textContent).toBe("Hire");
    expect(doc.querySelector("em")?.textContent).toBe("Madrid");
    expect(doc.querySelector("code")?.textContent).toBe("make");
    expect(doc.textContent).not.toMatch(/\*\*|^#|`/m);
  });

  it("returns null for an answer without Markdown, which is written as plain text as before", () => {
    expect(answerHtml("Revenue rose 12% in the third quarter.")).toBeNull();
    expect(answerHtml("First paragraph.\n\nSecond paragraph,\nwith a line break.")).toBeNull();
    expect(answerHtml("")).toBeNull();
  });

  it("keeps raw HTML in an answer as text: no script, no image, no event attribute reaches Word", () => {
    const html = answerHtml('**Note** <script>alert(1)</script> <img src="https://evil.example/x.png" onerror="alert(2)"> <b onclick="x()">hi</b>');
    const doc = parse(html);
    expect(doc.querySelectorAll("script, img, b").length).toBe(0);
    expect([...doc.querySelectorAll("*")].flatMap((element) => element.getAttributeNames())).toEqual([]);
    expect(html).not.toMatch(/<script|<img|<b /i);
    expect(doc.textContent).toContain("<script>alert(1)</script>"); // shown as the model wrote it: text, not markup
  });

  it("drops javascript: and data: links and Markdown images, and says where an https link goes", () => {
    const html = answerHtml("[click](javascript:alert(1)) [data](data:text/html,<script>x</script>) ![pixel](https://evil.example/p.png) [report](https://evil.example/?d=secret)");
    const doc = parse(html);
    expect(html).not.toMatch(/javascript:|data:text|<img/i);
    // The unsafe links keep their words but lose their destination (an <a> without href is plain text in Word).
    expect([...doc.querySelectorAll("a[href]")].map((a) => a.getAttribute("href"))).toEqual(["https://evil.example/?d=secret"]);
    expect(doc.textContent).toContain("report (evil.example)");
  });

  it("leaves a bare URL as text, as the pane does", () => {
    expect(answerHtml("See https://evil.example/?d=secret for more.")).toBeNull();
  });
});
