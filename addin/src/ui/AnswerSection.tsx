// The answer as the user meets it: where it came from and what it cost, the text (streaming in), a note when the
// model was cut off, and what to do with it (Insert, Replace, Copy, Undo), offered once it is complete.
import { Button, Caption1, Toolbar } from "@fluentui/react-components";
import type { WriteRequest } from "../hosts/types";
import { AnswerView } from "./AnswerView";
import { ProvenanceBadge } from "./ProvenanceBadge";
import type { RunState } from "./useRun";

interface Props {
  state: RunState;
  /** A write is under way: Insert and Replace wait for it, so a double click writes once. */
  writing: boolean;
  canUndo: boolean;
  onWrite: (mode: WriteRequest["mode"]) => void;
  onCopy: () => void;
  onUndo: () => void;
}

export function AnswerSection({ state, writing, canUndo, onWrite, onCopy, onUndo }: Props) {
  const complete = state.status === "done" && state.skill !== null;
  return (
    <section aria-label="Answer">
      <ProvenanceBadge model={state.model} usage={state.usage} />
      <AnswerView text={state.text} streaming={state.status === "running"} />
      {state.status === "done" && state.truncated ? (
        <Caption1 role="status" data-testid="truncated">
          Cut off: the model reached its length limit before the answer was complete. Run it on less text for a complete answer.
        </Caption1>
      ) : null}
      {complete ? (
        <Toolbar aria-label="Use the answer">
          <Button data-testid="insert" disabledFocusable={writing} onClick={() => onWrite("insert")}>
            Insert
          </Button>
          <Button data-testid="replace" disabledFocusable={writing} onClick={() => onWrite("replace")}>
            Replace
          </Button>
          <Button data-testid="copy" onClick={onCopy}>
            Copy
          </Button>
          {canUndo ? (
            <Button data-testid="undo" disabledFocusable={writing} onClick={onUndo}>
              Undo
            </Button>
          ) : null}
        </Toolbar>
      ) : null}
    </section>
  );
}
