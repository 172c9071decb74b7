// The task pane: pick a skill for this host, add instructions, run it on the selection, watch the answer stream in,
// and put it back into the document; long skills become jobs in the panel below.
import { Button, Caption1, Field, Input, Select, Spinner, Textarea, Title3, Toolbar } from "@fluentui/react-components";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { ApiClient } from "../api/client";
import { ApiProblem } from "../api/errors";
import type { Job, Skill, SkillInput } from "../api/types";
import type { HostAdapter, ReadScope, WritePreview, WriteRequest } from "../hosts/types";
import { AnswerSection } from "./AnswerSection";
import { PreviewPanel } from "./PreviewPanel";
import { JobsPanel, jobModel } from "./JobsPanel";
import { describeProblem, type ProblemView } from "./problems";
import { buildInput, skillParameters, skillRequires, wantsWholeDocument, wantsWorkbook } from "./skillInput";
import { SkillParameters } from "./SkillParameters";
import { StatusBanner } from "./StatusBanner";
import { useRun } from "./useRun";
import { type Turn, takesHistory, withExchange } from "./conversation";
import { useJobs } from "./useJobs";

interface Props {
  client: ApiClient;
  host: HostAdapter;
}

export function App({ client, host }: Props) {
  const [skills, setSkills] = useState<Skill[] | null>(null);
  const [skillId, setSkillId] = useState("");
  const [instructions, setInstructions] = useState("");
  const [conversation, setConversation] = useState<Turn[]>([]); // earlier questions and answers (ask)
  const [params, setParams] = useState<Record<string, string>>({});
  const [scope, setScope] = useState<ReadScope>("selection");
  const [target, setTarget] = useState("");
  const [pending, setPending] = useState<{ request: WriteRequest; preview: WritePreview } | null>(null);
  const answerScope = useRef<ReadScope | undefined>(undefined); // what the answer shown was made from
  const answerSource = useRef<string | undefined>(undefined); // Excel: the address of the range it was made from
  const [notice, setNotice] = useState("");
  const [problem, setProblem] = useState<ProblemView | null>(null);
  const [online, setOnline] = useState(navigator.onLine);
  const run = useRun(client);
  // Run is busy from the click until the answer streams (or the job is queued): a double click starts one call.
  const [starting, setStarting] = useState(false);
  const busy = useRef(false);
  // One write at a time: a double click on Insert puts the answer in once.
  const [writing, setWriting] = useState(false);
  const writeBusy = useRef(false);
  // What Try again does: the request that failed (loading the skills, or the run).
  const retry = useRef<() => void>(() => undefined);
  // The banner's buttons vanish with the banner: the focus then goes to Run, not to the top of the page.
  const runButton = useRef<HTMLButtonElement>(null);
  const thenFocusRun = <A extends unknown[]>(action: (...args: A) => void) => (...args: A) => {
    runButton.current?.focus();
    action(...args);
  };
  // The last request, so a skill the API says is jobs-only (409 use_a_job) can be sent again as a job.
  const lastRequest = useRef<{ skill: Skill; input: SkillInput } | null>(null);
  const showProblem = useCallback((error: unknown) => setProblem(describeProblem(error)), []);
  const jobs = useJobs(client, showProblem);
  const reloadJobs = jobs.reload;
  const skill = useMemo(() => skills?.find((s) => s.id === skillId) ?? null, [skills, skillId]);

  const loadSkills = useCallback(() => {
    retry.current = loadSkills;
    setProblem(null);
    client.skills(host.host).then(
      (list) => {
        setSkills(list);
        setSkillId((current) => current || list[0]?.id || "");
        reloadJobs(); // the API answers again: list the jobs too if that failed when the pane opened
      },
      (error) => showProblem(error),
    );
  }, [client, host, showProblem, reloadJobs]);

  useEffect(loadSkills, [loadSkills]);
  useEffect(() => {
    const update = () => setOnline(navigator.onLine);
    window.addEventListener("online", update);
    window.addEventListener("offline", update);
    return () => {
      window.removeEventListener("online", update);
      window.removeEventListener("offline", update);
    };
  }, []);

  const runSkill = useCallback(async () => {
    if (!skill || busy.current) return;
    retry.current = runSkill;
    busy.current = true;
    setStarting(true);
    setProblem(null);
    setNotice("");
    setPending(null);
    try {
      // What the skill takes decides what is read: a workbook, the whole document, or the chosen scope.
      const readScope: ReadScope = wantsWholeDocument(skill) ? "document" : scope;
      const read = wantsWorkbook(skill) && host.readWorkbook ? await host.readWorkbook() : await host.readInput(readScope);
      answerScope.current = host.lastRead ?? readScope; // Replace later writes over what was read
      answerSource.current = read.range?.address;
      const input = buildInput(skill, read, params, instructions);
      // A skill that takes a target cell (write_formula) gets the one the user typed.
      const accepts = (skill.input_schema as { properties?: Record<string, unknown> }).properties ?? {};
      if (target.trim() && "target_cell" in accepts) input.target_cell = target.trim();
      if (takesHistory(skill) && conversation.length) input.history = conversation;
      lastRequest.current = { skill, input };
      if (skill.long_running) await jobs.submit(skill, input);
      else {
        const answer = await run.start(skill, input);
        const question = input.instructions;
        if (answer !== null && takesHistory(skill) && typeof question === "string") setConversation((turns) => withExchange(turns, question, answer));
      }
    } catch (error) {
      showProblem(error);
    } finally {
      busy.current = false;
      setStarting(false);
    }
  }, [skill, host, scope, params, instructions, target, conversation, jobs, run, showProblem]);

  /** 409 use_a_job: the same request, queued as a job; 413 with a job skill: the same text, as that skill's document. */
  const runAsJob = useCallback(
    async (jobSkillId?: string) => {
      const request = lastRequest.current;
      if (!request) return;
      retry.current = () => void runAsJob(jobSkillId);
      setProblem(null);
      run.reset();
      try {
        const jobSkill = jobSkillId ? skills?.find((s) => s.id === jobSkillId) : request.skill;
        if (!jobSkill) throw new ApiProblem(403, "skill_disabled", `The skill ${jobSkillId} is not available to you.`);
        const { text, document } = request.input;
        const input = jobSkillId ? buildInput(jobSkill, { document: document ?? text }, params, instructions) : request.input;
        await jobs.submit(jobSkill, input);
      } catch (error) {
        showProblem(error);
      }
    },
    [jobs, run, skills, params, instructions, showProblem],
  );

  /** Another skill: an answer still streaming for the previous one is stopped (its text stays, marked stopped). */
  const pickSkill = useCallback(
    (id: string) => {
      if (run.state.status === "running") run.stop();
      setSkillId(id);
    },
    [run],
  );

  const requestFor = useCallback(
    (mode: WriteRequest["mode"], text: string, output: unknown, forSkill: Pick<Skill, "id" | "output">): WriteRequest => ({
      mode,
      skill: forSkill,
      text,
      output,
      model: run.state.model ?? undefined,
      target: target || undefined,
      scope: answerScope.current,
      source: answerSource.current,
    }),
    [run.state.model, target],
  );

  /** Excel writes wait for a confirmed preview, and then go where the preview said, even if the selection moved
   * since; Word writes go straight in (Word's own undo covers them). */
  const write = useCallback(
    async (request: WriteRequest, confirmed = false) => {
      if (writeBusy.current) return;
      writeBusy.current = true;
      setWriting(true);
      setProblem(null);
      try {
        if (host.host === "excel" && !confirmed) {
          setPending({ request, preview: await host.preview(request) });
          return;
        }
        setPending(null);
        setNotice((await host.write(request)).summary);
      } catch (error) {
        showProblem(error);
      } finally {
        writeBusy.current = false;
        setWriting(false);
      }
    },
    [host, showProblem],
  );

  const undo = useCallback(() => {
    host.undo().then(() => setNotice("Undone."), showProblem);
  }, [host, showProblem]);

  /** Escape stops a streaming answer, or dismisses a write's preview. */
  const onKeyDown = useCallback(
    (event: React.KeyboardEvent) => {
      if (event.key !== "Escape") return;
      if (run.state.status === "running") run.stop();
      else if (pending) setPending(null);
      else return;
      event.preventDefault();
    },
    [run, pending],
  );

  /** Show a finished job's result in the answer area, where Insert, Replace and Copy work as for any answer. */
  const openJobResult = useCallback(
    (job: Job) => {
      setSkillId(job.skill);
      setPending(null);
      answerScope.current = undefined; // a job's result replaces the selection, as the user chooses it
      answerSource.current = undefined;
      setNotice(`Result of ${job.skill}.`);
      const output = skills?.find((s) => s.id === job.skill)?.output ?? "text";
      const truncated = (job.output as { truncated?: unknown } | null | undefined)?.truncated === true;
      run.show(job.output, job.usage ?? null, { id: job.skill, output }, jobModel(job), truncated);
    },
    [run, skills],
  );

  const copy = useCallback(async () => {
    await navigator.clipboard?.writeText(run.state.text).then(
      () => setNotice("Copied."),
      () => setNotice("Copy is not allowed here; select the answer and press Ctrl+C."),
    );
  }, [run.state.text]);

  const running = run.state.status === "running";
  const answeredBy = run.state.status === "done" ? run.state.skill : null;
  const writeAnswer = (mode: WriteRequest["mode"]) => answeredBy && write(requestFor(mode, run.state.text, run.state.output, answeredBy));
  const shownProblem = !online ? offlineView() : (problem ?? run.state.problem);
  // Jobs of the other host's skills (a Word document's summary in Excel) are not this pane's to open.
  const hostJobs = skills ? jobs.jobs.filter((job) => skills.some((s) => s.id === job.skill)) : jobs.jobs;
  const skillNames = useMemo(() => Object.fromEntries((skills ?? []).map((s) => [s.id, s.name])), [skills]);

  return (
    <main className="pane" aria-label="Switchboard" onKeyDown={onKeyDown}>
      <Title3 as="h1">Switchboard</Title3>
      {shownProblem ? <StatusBanner problem={shownProblem} onRetry={thenFocusRun(() => retry.current())} onSignIn={loadSkills} onRunAsJob={thenFocusRun(runAsJob)} /> : null}
      {skills === null && !shownProblem ? <Spinner size="tiny" label="Loading skills…" /> : null}
      {skills !== null ? (
        <>
          <Field label="Skill">
            <Select data-testid="skill-picker" value={skillId} onChange={(_, data) => pickSkill(data.value)}>
              {skills.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                  {s.long_running ? " (job)" : ""}
                </option>
              ))}
            </Select>
          </Field>
          {skill ? <Caption1>{skill.description}</Caption1> : null}
          {skills.length === 0 ? (
            <Caption1 data-testid="no-skills">
              No skill is enabled for you in {host.host === "excel" ? "Excel" : "Word"}: your administrator chooses them in the admin console.
            </Caption1>
          ) : null}
          <Field label="Run on">
            <Select data-testid="scope" value={scope} onChange={(_, data) => setScope(data.value as ReadScope)}>
              <option value="selection">The selection</option>
              <option value="document">{host.host === "excel" ? "The whole sheet" : "The whole document"}</option>
            </Select>
          </Field>
          {skill ? <SkillParameters parameters={skillParameters(skill)} values={params} onChange={(name, value) => setParams((all) => ({ ...all, [name]: value }))} /> : null}
          <Field
            label={skill && skillRequires(skill, "instructions") ? "Instructions" : "Instructions (optional)"}
            required={skill ? skillRequires(skill, "instructions") : false}
            hint="Ctrl+Enter runs the skill; Escape stops the answer."
          >
            <Textarea
              data-testid="instructions"
              value={instructions}
              onChange={(_, data) => setInstructions(data.value)}
              onKeyDown={(event) => {
                if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
                  event.preventDefault();
                  void runSkill();
                }
              }}
              resize="vertical"
            />
          </Field>
          {skill && takesHistory(skill) && conversation.length ? (
            // Not while a question is being answered: its answer joins the conversation when it ends, so a new
            // conversation started meanwhile would begin with it (Stop or Escape ends the answer first).
            <Button data-testid="new-conversation" size="small" disabledFocusable={running || starting} onClick={() => setConversation([])}>
              New conversation ({conversation.length / 2} earlier question{conversation.length === 2 ? "" : "s"} sent with the next)
            </Button>
          ) : null}
          {host.host === "excel" ? (
            <Field label="Target range (optional)" hint="Where to write; default: under the selection for Insert, the cells the answer was made from for Replace.">
              <Input data-testid="target" value={target} onChange={(_, data) => setTarget(data.value)} placeholder="Sheet1!D2" />
            </Field>
          ) : null}
          {/* disabledFocusable, not disabled: a button that becomes disabled under the keyboard focus drops it to the
              page, and a keyboard user would have to find the pane again after each Run or Stop. */}
          <Toolbar aria-label="Run">
            <Button appearance="primary" data-testid="run" ref={runButton} disabledFocusable={!skill || running || starting} onClick={runSkill}>
              Run
            </Button>
            <Button data-testid="stop" disabledFocusable={!running} onClick={run.stop}>
              Stop
            </Button>
          </Toolbar>
        </>
      ) : null}
      {run.state.status !== "idle" ? (
        <AnswerSection state={run.state} writing={writing} canUndo={host.canUndo()} onWrite={writeAnswer} onCopy={copy} onUndo={undo} />
      ) : null}
      {pending ? (
        // Write goes to the target the preview named, not wherever the selection is by the time it is pressed.
        <PreviewPanel
          preview={pending.preview}
          writing={writing}
          onWrite={() => write({ ...pending.request, target: pending.preview.target ?? pending.request.target }, true)}
          onCancel={() => setPending(null)}
        />
      ) : null}
      {/* Always present, so a screen reader announces each notice that is written into it ("Inserted after the
          selection."): a live region added together with its text is often not read out. */}
      <Caption1 role="status" data-testid="notice">
        {notice}
      </Caption1>
      <JobsPanel jobs={hostJobs} names={skillNames} onCancel={jobs.cancel} onOpen={openJobResult} />
    </main>
  );
}

function offlineView(): ProblemView {
  return { kind: "offline", title: "You are offline", message: "Reconnect to use Switchboard.", retry: true };
}
