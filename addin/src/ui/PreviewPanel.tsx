// An Excel write before it happens: what goes where, Write or Cancel. Write takes the keyboard focus when the preview
// opens, and the focus goes back to the button that opened it (Insert or Replace) when it closes, so a keyboard user
// is never left at the top of the page.
import { Button, Caption1, Toolbar } from "@fluentui/react-components";
import { useEffect, useId, useState } from "react";
import type { WritePreview } from "../hosts/types";

interface Props {
  preview: WritePreview;
  writing: boolean;
  onWrite: () => void;
  onCancel: () => void;
}

export function PreviewPanel({ preview, writing, onWrite, onCancel }: Props) {
  const summaryId = useId();
  const overwritten = filledCells(preview.before);
  // Taken while rendering, before Write's autoFocus moves the focus (effects run after that).
  const [opener] = useState(() => document.activeElement);
  useEffect(
    () => () => {
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
    },
    [opener],
  );
  return (
    <section aria-label="Preview" data-testid="preview" className="preview">
      <Caption1 id={summaryId}>
        {preview.summary}
        {overwritten ? ` It overwrites ${overwritten} ${overwritten === 1 ? "cell that holds" : "cells that hold"} data (Undo puts ${overwritten === 1 ? "it" : "them"} back).` : ""}
      </Caption1>
      <Toolbar>
        <Button appearance="primary" data-testid="confirm-write" autoFocus aria-describedby={summaryId} disabledFocusable={writing} onClick={onWrite}>
          Write
        </Button>
        <Button data-testid="cancel-write" onClick={onCancel}>
          Cancel
        </Button>
      </Toolbar>
    </section>
  );
}

/** How many cells of the target hold something now (a value or a formula), which the write would replace. */
export function filledCells(before: unknown[][] | undefined): number {
  return (before ?? []).reduce((count, row) => count + row.filter((cell) => cell !== "" && cell !== null && cell !== undefined).length, 0);
}
