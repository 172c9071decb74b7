// Budgets (USD per month), rate limits (per minute) and which skills are on. Blank means "no limit".
import { Button, Field, Input, Switch, Text, Title3 } from "@fluentui/react-components";
import { useState } from "react";
import type { Catalog, TenantSettings } from "../api";
import type { SaveSettings } from "../AdminApp";
import { disabledSkills, errorsFor, limitText, limitsPatch, type FieldError } from "../settingsForm";

const BUDGETS = { tenant_monthly_usd: "Tenant budget (USD per month)", user_monthly_usd: "Per-user budget (USD per month)" };
const RATES = {
  user_requests_per_minute: "Requests per user per minute",
  tenant_requests_per_minute: "Requests per tenant per minute",
  user_tokens_per_minute: "Tokens per user per minute",
  tenant_tokens_per_minute: "Tokens per tenant per minute",
};

interface Props {
  settings: TenantSettings;
  catalog: Catalog;
  save: SaveSettings;
}

export function LimitsSection({ settings, catalog, save }: Props) {
  const [budgets, setBudgets] = useState(() => texts(Object.keys(BUDGETS), settings.budgets as Record<string, number | null>));
  const [rates, setRates] = useState(() => texts(Object.keys(RATES), settings.rate_limits));
  const [skillsOn, setSkillsOn] = useState(() => Object.fromEntries(catalog.skills.map((s) => [s.id, !settings.disabled_skills.includes(s.id)])));
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [skillErrors, setSkillErrors] = useState<FieldError[]>([]);

  const saveLimits = async () => {
    const { patch, errors: local } = limitsPatch(budgets, rates);
    setErrors(local.length ? local : await save(patch));
  };
  const saveSkills = async () => setSkillErrors(await save({ disabled_skills: disabledSkills(catalog.skills.map((s) => s.id), skillsOn) }));
  const message = (field: string) => errorsFor(errors, field).join("; ") || undefined;

  return (
    <section aria-label="Budgets, limits and skills">
      <Title3>Budgets and rate limits</Title3>
      <form
        className="admin-form"
        data-testid="limits-form"
        onSubmit={(event) => {
          event.preventDefault();
          void saveLimits();
        }}
      >
        {Object.entries(BUDGETS).map(([key, label]) => (
          <Field key={key} label={label} validationMessage={message(`budgets/${key}`)}>
            <Input name={key} inputMode="decimal" value={budgets[key]} onChange={(_, data) => setBudgets((all) => ({ ...all, [key]: data.value }))} />
          </Field>
        ))}
        {Object.entries(RATES).map(([key, label]) => (
          <Field key={key} label={label} validationMessage={message(`rate_limits/${key}`)}>
            <Input name={key} inputMode="numeric" value={rates[key]} onChange={(_, data) => setRates((all) => ({ ...all, [key]: data.value }))} />
          </Field>
        ))}
        <Button type="submit" appearance="primary">
          Save limits
        </Button>
      </form>
      <Title3>Skills</Title3>
      <div className="admin-skills" data-testid="skills-list">
        {catalog.skills.map((skill) => (
          <Switch
            key={skill.id}
            label={`${skill.name} (${skill.id}, ${skill.hosts.join("/")})`}
            checked={skillsOn[skill.id] ?? true}
            onChange={(_, data) => setSkillsOn((all) => ({ ...all, [skill.id]: data.checked }))}
          />
        ))}
      </div>
      {errorsFor(skillErrors, "disabled_skills").map((text) => (
        <Text key={text} role="alert" className="admin-error">
          {text}
        </Text>
      ))}
      <Button appearance="primary" onClick={() => void saveSkills()}>
        Save skills
      </Button>
    </section>
  );
}

function texts(keys: string[], values: Record<string, number | null | undefined>): Record<string, string> {
  return Object.fromEntries(keys.map((key) => [key, limitText(values[key])]));
}
