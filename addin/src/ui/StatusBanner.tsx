// One banner for every problem state: sign-in, budget, all models failed, offline, stopped, jobs-only, other errors.
import { Button, MessageBar, MessageBarActions, MessageBarBody, MessageBarTitle } from "@fluentui/react-components";
import type { ProblemView } from "./problems";

const INTENT = { sign_in: "warning", budget: "warning", models: "error", offline: "warning", unavailable: "warning", stopped: "info", use_a_job: "info", error: "error" } as const;

interface Props {
  problem: ProblemView;
  onRetry?: () => void;
  onSignIn?: () => void;
  onRunAsJob?: (jobSkill?: string) => void;
}

export function StatusBanner({ problem, onRetry, onSignIn, onRunAsJob }: Props) {
  return (
    <MessageBar intent={INTENT[problem.kind]} data-testid={`problem-${problem.kind}`} role="alert">
      <MessageBarBody>
        <MessageBarTitle>{problem.title}</MessageBarTitle>
        {problem.message}
      </MessageBarBody>
      <MessageBarActions>
        {problem.kind === "sign_in" && onSignIn ? <Button onClick={onSignIn}>Sign in</Button> : null}
        {problem.retry && onRetry ? <Button onClick={onRetry}>Try again</Button> : null}
        {problem.kind === "use_a_job" && onRunAsJob ? <Button onClick={() => onRunAsJob(problem.jobSkill)}>Run as a job</Button> : null}
      </MessageBarActions>
    </MessageBar>
  );
}
