// The end-to-end scenarios: each seeds the fake host, drives the pane like a user, and checks the document.
// Generous: the first call into a cold backend imports Semantic Kernel, and CI machines are shared.
const TIMEOUT = Number(process.env.E2E_TIMEOUT_MS || 90000);

/** Plain text for comparing an inserted answer with what the pane showed (Markdown marks and spacing removed). */
export function plain(text) {
  return String(text).replace(/^\s*[-*+]\s+|^\s*\d+\.\s+/gm, "").replace(/[*_#`>]/g, "").replace(/\s+/g, " ").trim();
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

/** Wait for the skill list; a problem banner instead means the backend is not ready for this scenario. */
async function pickSkill(frame, skillId) {
  const picker = frame.getByTestId("skill-picker");
  const problem = frame.locator("[data-testid^=problem-]");
  await Promise.race([picker.waitFor({ timeout: TIMEOUT }), problem.first().waitFor({ timeout: TIMEOUT })]);
  if (await problem.count()) throw new Error(`the pane shows a problem instead of skills: ${await problem.first().innerText()}`);
  const ids = await picker.locator("option").evaluateAll((options) => options.map((o) => o.value));
  assert(ids.includes(skillId), `skill ${skillId} is not offered for this host (got: ${ids.join(", ") || "none"})`);
  await picker.selectOption(skillId);
}

/** Record every distinct text the answer shows, to prove it arrived in pieces. */
async function watchAnswer(paneFrame) {
  await paneFrame().evaluate(() => {
    window.__answerStates = [];
    new MutationObserver(() => {
      const answer = document.querySelector("[data-testid=answer]");
      const text = answer ? answer.textContent : "";
      const states = window.__answerStates;
      if (text && states[states.length - 1] !== text) states.push(text);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
}

async function runAndWaitForAnswer(host) {
  await host.frame.getByTestId("run").click();
  const done = host.frame.getByTestId("insert");
  const failed = host.frame.locator("[data-testid^=problem-]");
  await Promise.race([done.waitFor({ timeout: TIMEOUT }), failed.first().waitFor({ timeout: TIMEOUT })]);
  if (await failed.count()) throw new Error(`the run failed: ${await failed.first().innerText()}`);
  return host.frame.getByTestId("answer").innerText();
}

const wordSummarize = {
  name: "word-summarize",
  state: {
    host: "Word",
    paragraphs: [
      "Quarterly report",
      "Revenue grew 12% in the third quarter, driven by demand in Europe and by forty new enterprise customers. Costs rose 4%, mostly from hiring.",
      "Next steps: open the Madrid office and hire two engineers.",
    ],
    selection: [1, 1],
  },
  async run(host) {
    await pickSkill(host.frame, "summarize");
    await host.screenshot("skills-loaded");
    await watchAnswer(host.paneFrame);
    const answer = await runAndWaitForAnswer(host);
    await host.screenshot("answer-streamed");
    const states = await host.paneFrame().evaluate(() => window.__answerStates);
    assert(answer.trim().length > 0, "the answer is empty");
    assert(states.length >= 2, `the answer did not stream: it appeared in ${states.length} piece(s)`);
    const provenance = await host.frame.getByTestId("provenance").innerText();
    assert(/tokens/.test(provenance), `no usage in the provenance badge: ${provenance}`);
    await host.frame.getByTestId("insert").click();
    await host.frame.getByTestId("notice").waitFor({ timeout: TIMEOUT });
    const paragraphs = await host.paneFrame().evaluate(() => window.__fakeHost.doc.paragraphs);
    await host.screenshot("inserted");
    assert(paragraphs.length === 4, `expected one paragraph inserted, the document has ${paragraphs.length}`);
    assert(plain(paragraphs[2]) === plain(answer), `the document does not hold the answer after the selection: ${paragraphs[2]}`);
    return { pieces: states.length, provenance };
  },
};

/** Insert an answer written in Markdown: Word gets a heading, bold and list items, not "#", "**" and "-". */
const wordFormattedInsert = {
  name: "word-formatted-insert",
  state: { host: "Word", paragraphs: ["Quarterly report", "Revenue grew 12% in the third quarter."], selection: [1, 1] },
  async run(host) {
    await pickSkill(host.frame, "summarize");
    await host.frame.getByTestId("instructions").fill("Write it as a formatted brief");
    await runAndWaitForAnswer(host);
    await host.frame.getByTestId("insert").click();
    await host.frame.getByText("Inserted after the selection.").waitFor({ timeout: TIMEOUT });
    const { doc, log } = await host.paneFrame().evaluate(() => ({ doc: window.__fakeHost.doc, log: window.__fakeHost.log }));
    await host.screenshot("formatted-inserted");
    const added = doc.paragraphs.slice(2).map((text, i) => ({ text, style: doc.styles[i + 2], runs: doc.runs[i + 2] }));
    const summary = JSON.stringify(added);
    assert(added[0] && added[0].text === "Quarterly brief" && added[0].style === "Heading 1", `the heading is not a Heading 1: ${summary}`);
    assert(added.some((p) => p.runs.some((run) => run.format === "bold" && run.text === "12%")), `"12%" is not bold: ${summary}`);
    const items = added.filter((p) => p.style === "List Bullet").map((p) => p.text);
    assert(items.join("|") === "Open the Madrid office|Hire two engineers", `the list items are not a bulleted list: ${summary}`);
    assert(added.every((p) => !/\*\*|^#|^- /.test(p.text)), `Markdown marks landed in the document: ${summary}`);
    assert(!log.some((entry) => entry.op === "unsafe-html"), "HTML that runs or loads something reached Word");
    assert(doc.paragraphs.slice(0, 2).join("|") === "Quarterly report|Revenue grew 12% in the third quarter.", "the text before changed");
    return { paragraphs: added.length };
  },
};

const excelWriteFormula = {
  name: "excel-write-formula",
  state: { host: "Excel", cells: { A1: 10, A2: 20, A3: 30 }, selected: "A1:A3" },
  async run(host) {
    await pickSkill(host.frame, "write_formula");
    await host.frame.getByTestId("instructions").fill("Add up the selected cells");
    await runAndWaitForAnswer(host);
    await host.frame.getByTestId("insert").click();
    await host.frame.getByTestId("preview").waitFor({ timeout: TIMEOUT });
    await host.screenshot("preview");
    await host.frame.getByTestId("confirm-write").click();
    await host.frame.getByTestId("notice").waitFor({ timeout: TIMEOUT });
    await host.screenshot("written");
    const a4 = await host.paneFrame().evaluate(() => window.__fakeHost.cells.A4);
    assert(a4 && String(a4.formula).startsWith("="), `A4 holds no formula: ${JSON.stringify(a4)}`);
    return { formula: a4.formula };
  },
};

const longJob = {
  name: "word-long-job",
  state: {
    host: "Word",
    paragraphs: Array.from({ length: 12 }, (_, i) => `Section ${i + 1}. The committee reviewed item ${i + 1} and agreed on the next steps for the project.`),
    selection: [0, 0],
  },
  async run(host) {
    await pickSkill(host.frame, "summarize_document");
    await host.frame.getByTestId("scope").selectOption("document");
    await host.frame.getByTestId("run").click();
    const job = host.frame.locator("[data-testid^=job-]").first();
    await job.waitFor({ timeout: TIMEOUT });
    const seen = new Set();
    const deadline = Date.now() + Math.max(TIMEOUT, 60000);
    let status = "";
    while (Date.now() < deadline) {
      status = (await job.getAttribute("data-status")) || "";
      const state = `${status} ${await job.getByTestId("job-progress").innerText()}`;
      if (!seen.has(state)) {
        seen.add(state);
        await host.screenshot(`job-${state.replace(/\W+/g, "-")}`);
      }
      if (!["queued", "running"].includes(status)) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await host.screenshot("job-finished");
    assert(status === "succeeded", `the job ended ${status || "never"} (seen: ${[...seen].join(", ")})`);
    assert([...seen].some((s) => /^(queued|running) /.test(s)), "no progress was shown before the result");
    await job.getByRole("button", { name: "Open result" }).click();
    const result = await host.frame.getByTestId("answer").innerText();
    assert(result.trim().length > 0 && !result.includes("```"), `the result is not shown as text: ${result}`);
    await host.frame.getByTestId("insert").click();
    await host.frame.getByText("Inserted after the selection.").waitFor({ timeout: TIMEOUT });
    const paragraphs = await host.paneFrame().evaluate(() => window.__fakeHost.doc.paragraphs);
    await host.screenshot("result-inserted");
    assert(paragraphs.length === 13 && plain(paragraphs[1]) === plain(result), `the job's result was not inserted: ${paragraphs[1]}`);
    return { progress: [...seen] };
  },
};

/** Which element of the pane has the keyboard focus ("run", "stop", ... or the tag name, "BODY" when it was lost). */
async function focused(paneFrame) {
  return paneFrame().evaluate(() => document.activeElement?.getAttribute("data-testid") || document.activeElement?.tagName || "");
}

const wordKeyboard = {
  name: "word-keyboard",
  state: {
    host: "Word",
    paragraphs: ["Minutes", "The board approved the budget and asked for a hiring plan by March.", "Next meeting: April."],
    selection: [1, 1],
  },
  async run(host) {
    await pickSkill(host.frame, "summarize");
    // Keyboard only: Run with Enter, and the focus must stay in the pane while the answer streams (a button disabled
    // under the focus drops it to the page in Chromium), so Escape reaches the pane and stops the answer.
    await host.frame.getByTestId("run").focus();
    await host.page.keyboard.press("Enter");
    const answer = host.frame.getByTestId("answer");
    await answer.and(host.frame.locator("[data-streaming=true]")).waitFor({ timeout: TIMEOUT });
    await host.frame.locator("[data-testid=answer][data-streaming=true] :is(p, li)").first().waitFor({ timeout: TIMEOUT });
    const whileStreaming = await focused(host.paneFrame);
    await host.screenshot("streaming");
    assert(whileStreaming === "run", `the focus left Run while the answer streamed: it is on ${whileStreaming}`);
    await host.page.keyboard.press("Escape");
    await host.frame.getByTestId("problem-stopped").waitFor({ timeout: TIMEOUT });
    await host.screenshot("stopped");
    const partial = await answer.innerText();
    assert(partial.trim().length > 0, "the text streamed before Stop is gone");
    assert((await host.frame.getByTestId("insert").count()) === 0, "a stopped answer offers Insert");
    const afterStop = await focused(host.paneFrame);
    assert(afterStop === "run", `the focus is not back on a usable Run after Escape: it is on ${afterStop}`);
    return { partial: partial.length };
  },
};

export const SCENARIOS = [wordSummarize, wordFormattedInsert, excelWriteFormula, longJob, wordKeyboard];
