// Word: read the selection or the body; insert after or replace the selection, an answer with Markdown as formatted
// content (wordFormatting); proofreading edits as tracked changes with a comment (WordApi 1.6); a translation written
// back paragraph by paragraph so each keeps its formatting.
import { ApiProblem } from "../api/errors";
import type { SkillInput } from "../api/types";
import { parseEdits, splitParagraphs } from "./edits";
import type { HostAdapter, ReadScope, WritePreview, WriteReport, WriteRequest } from "./types";
import { answerHtml } from "./wordFormatting";

/** The longest text Word's search accepts. */
const MAX_SEARCH = 255;

export class WordHost implements HostAdapter {
  readonly host = "word" as const;
  lastRead: ReadScope = "selection";

  /** Selected text, or the whole body when nothing is selected (then `lastRead` is "document"); `document` is sent
   * only when asked for. */
  async readInput(scope: ReadScope): Promise<SkillInput> {
    return Word.run(async (context) => {
      const selection = context.document.getSelection();
      const body = context.document.body;
      selection.load("text");
      body.load("text");
      await context.sync();
      const selected = scope === "selection" && selection.text.trim() !== "";
      this.lastRead = selected ? "selection" : "document";
      if (scope === "document") return { text: body.text, document: body.text };
      return { text: selected ? selection.text : body.text };
    });
  }

  /** Word shows its changes in place (and tracked changes when edits are applied), so the preview is a sentence. */
  async preview(request: WriteRequest): Promise<WritePreview> {
    if (request.skill.output === "edits") {
      const count = parseEdits(request.output).length;
      return { summary: `${count} suggested edit${count === 1 ? "" : "s"} will be applied as tracked changes.` };
    }
    const replaced = request.scope === "document" ? "in place of the whole document" : "in place of the selection";
    const where = request.mode === "insert" ? "after the selection" : replaced;
    return { summary: `The answer will be written ${where}.` };
  }

  /** Dispatch on what the answer is: edits, paragraph-aligned text, or plain text. */
  async write(request: WriteRequest): Promise<WriteReport> {
    if (request.skill.output === "edits") return this.applyEdits(request);
    if (request.mode === "insert") return this.insertAfterSelection(request.text);
    return this.replace(request.text, request.scope);
  }

  /** Word's own undo (Ctrl+Z) covers every write, tracked changes can be rejected: nothing for the pane to keep. */
  canUndo(): boolean {
    return false;
  }

  /** Not offered in Word; see canUndo. */
  async undo(): Promise<void> {
    throw new Error("Use Word's Undo to revert the change.");
  }

  /** A new paragraph after the selection: the answer's text, or its formatted content when it has Markdown. */
  private async insertAfterSelection(text: string): Promise<WriteReport> {
    const html = answerHtml(text);
    await Word.run(async (context) => {
      const selection = context.document.getSelection();
      const paragraph = selection.insertParagraph(html === null ? text : "", "After");
      if (html !== null) paragraph.insertHtml(html, "Replace");
      await context.sync();
    });
    return { summary: "Inserted after the selection." };
  }

  /** Replace paragraph by paragraph when the counts match (a translation: plain text into each paragraph, which keeps
   * its formatting), else the whole range at once, formatted when the answer has Markdown. The range
   * is what the skill read: the body after a whole-document read or with nothing selected (readInput), else the
   * selection; an answer made from a selection is never written over the whole body because the selection was
   * lost since (a click elsewhere), and a job's result (no scope) replaces the selection, or the body. */
  private async replace(text: string, scope?: ReadScope): Promise<WriteReport> {
    return Word.run(async (context) => {
      const selection = context.document.getSelection();
      selection.load("text");
      await context.sync();
      const nothingSelected = !selection.text.trim();
      if (nothingSelected && scope === "selection") throw selectionLost();
      const wholeBody = scope === "document" || nothingSelected;
      const range = wholeBody ? context.document.body : selection;
      const paragraphs = range.paragraphs;
      paragraphs.load("items/text");
      await context.sync();
      const existing = paragraphs.items.filter((paragraph) => paragraph.text.trim() !== "");
      const replacements = splitParagraphs(text);
      if (existing.length > 1 && existing.length === replacements.length) {
        existing.forEach((paragraph, index) => paragraph.insertText(replacements[index], "Replace"));
        await context.sync();
        return { summary: `Replaced ${existing.length} paragraphs in place.` };
      }
      const html = answerHtml(text);
      if (html === null) range.insertText(text, "Replace");
      else range.insertHtml(html, "Replace");
      await context.sync();
      if (!wholeBody) return { summary: "Replaced the selection." };
      return { summary: scope === "document" ? "Replaced the whole document." : "Replaced the whole document (nothing was selected)." };
    });
  }

  /** Each edit replaces the first match in the selection (or body); tracked, with a comment, where supported. */
  private async applyEdits(request: WriteRequest): Promise<WriteReport> {
    const edits = parseEdits(request.output);
    const tracked = Office.context.requirements.isSetSupported("WordApi", "1.6");
    const modelName = request.model ? `${request.model.provider}/${request.model.model}` : "the model";
    return Word.run(async (context) => {
      const document = context.document;
      const selection = document.getSelection();
      selection.load("text");
      if (tracked) document.load("changeTrackingMode");
      await context.sync();
      const scope = request.scope !== "document" && selection.text.trim() ? selection : document.body;
      const previousMode = tracked ? document.changeTrackingMode : null;
      if (tracked) document.changeTrackingMode = "TrackAll" as Word.ChangeTrackingMode;
      // Word's search takes at most 255 characters and fails the whole batch beyond: such an edit counts as not found.
      const searches = edits.map((edit) => (edit.original.length <= MAX_SEARCH ? scope.search(edit.original, { matchCase: true }) : null));
      searches.forEach((results) => results?.load("items"));
      await context.sync();
      // The same original twice ("teh" ... "teh") means its first, then its second occurrence.
      const seen = new Map<string, number>();
      let applied = 0;
      searches.forEach((results, index) => {
        const occurrence = seen.get(edits[index].original) ?? 0;
        seen.set(edits[index].original, occurrence + 1);
        const match = results?.items[occurrence];
        if (!match) return; // the text changed since it was read: skip rather than guess
        const edit = edits[index];
        const replaced = match.insertText(edit.replacement, "Replace");
        if (tracked) replaced.insertComment(`${edit.reason || "Suggested edit"} (suggested by ${modelName})`);
        applied += 1;
      });
      if (tracked && previousMode !== null) document.changeTrackingMode = previousMode;
      await context.sync();
      const skipped = edits.length - applied;
      const how = tracked ? "as tracked changes" : "directly (tracked changes need WordApi 1.6)";
      return { summary: `Applied ${applied} edit${applied === 1 ? "" : "s"} ${how}${skipped ? `, ${skipped} not found` : ""}.`, tracked };
    });
  }
}

/** Replace of an answer made from a selection, with nothing selected any more. */
function selectionLost(): ApiProblem {
  const message = "Nothing is selected any more: select the text to replace, or use Insert to add the answer after the cursor.";
  return new ApiProblem(409, "nothing_selected", message);
}
