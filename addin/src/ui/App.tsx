// The task pane: pick a skill for this host, add instructions, run it on the selection, watch the answer stream in,
// and put it back into the document; long skills become jobs in the panel below.
import { Button, Caption1, Field, Input, Select, Spinner, Textarea, Title3, Toolbar } from "@fluentui/react-components";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { ApiClient } from "../api/client";
import { ApiProblem } from "../api/errors";
import type { Job, Skill, SkillInput } from "../api/types";
import type { HostAdapter, ReadScope, WritePreview, WriteRequest } from "../hosts/types";
import { AnswerView } from "./AnswerView";
import { JobsPanel, jobModel } from "./JobsPanel";
import { describeProblem, type ProblemView } from "./problems";
import { ProvenanceBadge } from "./ProvenanceBadge";
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
  const [notice, setNotice] = useState("");
  const [problem, setProblem] = useState<ProblemView | null>(null);
  const [online, setOnline] = useState(navigator.onLine);
  const run = useRun(client);
  // Run is busy from the click until the answer streams (or the job is queued): a double click starts one call.
  const [starting, setStarting] = useState(false);
  const busy = useRef(false);
  // The last request, so a skill the API says is jobs-only (409 use_a_job) can be sent again as a job.
  const lastRequest = useRef<{ skill: Skill; input: SkillInput } | null>(null);
  const showProblem = useCallback((error: unknown) => setProblem(describeProblem(error)), []);
  const jobs = useJobs(client, showProblem);
  const skill = useMemo(() => skills?.find((s) => s.id === skillId) ?? null, [skills, skillId]);

  const loadSkills = useCallback(() => {
    setProblem(null);
    client.skills(host.host).then(
      (list) => {
        setSkills(list);
        setSkillId((current) => current || list[0]?.id || "");
      },
      (error) => showProblem(error),
    );
  }, [client, host, showProblem]);

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
    busy.current = true;
    setStarting(true);
    setProblem(null);
    setNotice("");
    setPending(null);
    try {
      // What the skill takes decides what is read: a workbook, the whole document, or the chosen scope.
      const readScope: ReadScope = wantsWholeDocument(skill) ? "document" : scope;
      const read = wantsWorkbook(skill) && host.readWorkbook ? await host.readWorkbook() : await host.readInput(readScope);
      answerScope.current = readScope; // Replace later writes over what was read, whatever is selected by then
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
    }),
    [run.state.model, target],
  );

  /** Excel writes wait for a confirmed preview; Word writes go straight in (Word's own undo covers them). */
  const write = useCallback(
    async (request: WriteRequest, confirmed = false) => {
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
      }
    },
    [host, showProblem],
  );

  /** Show a finished job's result in the answer area, where Insert, Replace and Copy work as for any answer. */
  const openJobResult = useCallback(
    (job: Job) => {
      setSkillId(job.skill);
      setPending(null);
      answerScope.current = undefined; // a job's result replaces the selection, as the user chooses it
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
  const shownProblem = !online ? offlineView() : (problem ?? run.state.problem);
  // Jobs of the other host's skills (a Word document's summary in Excel) are not this pane's to open.
  const hostJobs = skills ? jobs.jobs.filter((job) => skills.some((s) => s.id === job.skill)) : jobs.jobs;

  return (
    <main className="pane" aria-label="Switchboard">
      <Title3 as="h1">Switchboard</Title3>
      {shownProblem ? <StatusBanner problem={shownProblem} onRetry={loadSkills} onSignIn={loadSkills} onRunAsJob={runAsJob} /> : null}
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
          <Field label="Run on">
            <Select data-testid="scope" value={scope} onChange={(_, data) => setScope(data.value as ReadScope)}>
              <option value="selection">The selection</option>
              <option value="document">{host.host === "excel" ? "The whole sheet" : "The whole document"}</option>
            </Select>
          </Field>
          {skill ? <SkillParameters parameters={skillParameters(skill)} values={params} onChange={(name, value) => setParams((all) => ({ ...all, [name]: value }))} /> : null}
          <Field label={skill && skillRequires(skill, "instructions") ? "Instructions" : "Instructions (optional)"}>
            <Textarea data-testid="instructions" value={instructions} onChange={(_, data) => setInstructions(data.value)} resize="vertical" />
          </Field>
          {skill && takesHistory(skill) && conversation.length ? (
            <Button data-testid="new-conversation" size="small" onClick={() => setConversation([])}>
              New conversation ({conversation.length / 2} earlier question{conversation.length === 2 ? "" : "s"} sent with the next)
            </Button>
          ) : null}
          {host.host === "excel" ? (
            <Field label="Target range (optional)" hint="Where to write; default: under the selection for Insert, the selection for Replace.">
              <Input data-testid="target" value={target} onChange={(_, data) => setTarget(data.value)} placeholder="Sheet1!D2" />
            </Field>
          ) : null}
          <Toolbar aria-label="Run">
            <Button appearance="primary" data-testid="run" disabled={!skill || running || starting} onClick={runSkill}>
              Run
            </Button>
            <Button data-testid="stop" disabled={!running} onClick={run.stop}>
              Stop
            </Button>
          </Toolbar>
        </>
      ) : null}
      {run.state.status !== "idle" ? (
        <section aria-label="Answer">
          <ProvenanceBadge model={run.state.model} usage={run.state.usage} />
          <AnswerView text={run.state.text} streaming={running} />
          {run.state.status === "done" && run.state.truncated ? (
            <Caption1 role="status" data-testid="truncated">
              Cut off: the model reached its length limit before the answer was complete. Run it on less text for a complete answer.
            </Caption1>
          ) : null}
          {answeredBy ? (
            <Toolbar aria-label="Use the answer">
              <Button data-testid="insert" onClick={() => write(requestFor("insert", run.state.text, run.state.output, answeredBy))}>
                Insert
              </Button>
              <Button data-testid="replace" onClick={() => write(requestFor("replace", run.state.text, run.state.output, answeredBy))}>
                Replace
              </Button>
              <Button data-testid="copy" onClick={copy}>
                Copy
              </Button>
              {host.canUndo() ? (
                <Button data-testid="undo" onClick={() => host.undo().then(() => setNotice("Undone."), showProblem)}>
                  Undo
                </Button>
              ) : null}
            </Toolbar>
          ) : null}
        </section>
      ) : null}
      {pending ? (
        <section aria-label="Preview" data-testid="preview" className="preview">
          <Caption1>{pending.preview.summary}</Caption1>
          <Toolbar>
            <Button appearance="primary" data-testid="confirm-write" onClick={() => write(pending.request, true)}>
              Write
            </Button>
            <Button onClick={() => setPending(null)}>Cancel</Button>
          </Toolbar>
        </section>
      ) : null}
      {notice ? (
        <Caption1 role="status" data-testid="notice">
          {notice}
        </Caption1>
      ) : null}
      <JobsPanel jobs={hostJobs} onCancel={jobs.cancel} onOpen={openJobResult} />
    </main>
  );
}

function offlineView(): ProblemView {
  return { kind: "offline", title: "You are offline", message: "Reconnect to use Switchboard." };
}
