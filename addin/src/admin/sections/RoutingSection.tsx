// Routing and data policy: the mode, per-skill pins and whether pinned skills may fall back; which providers and
// locations each sensitivity level may use. One save sends both, with the API's 422 details beside each field.
import { Button, Checkbox, Field, Input, Select, Text, Textarea, Title3 } from "@fluentui/react-components";
import { useState } from "react";
import type { Sensitivity } from "../../api/types";
import type { Catalog, RoutingMode, SensitivityRule, TenantSettings } from "../api";
import type { SaveSettings } from "../AdminApp";
import { errorsFor, parseList, parsePins, pinsText, type FieldError } from "../settingsForm";

const MODES: Record<RoutingMode, string> = {
  cost: "Cheapest allowed model",
  quality: "Best allowed model",
  pinned: "Pinned models per skill",
  selfhosted_first: "Self-hosted first",
};
const LEVELS: Sensitivity[] = ["general", "confidential", "highly_confidential"];

interface Props {
  settings: TenantSettings;
  catalog: Catalog;
  save: SaveSettings;
}

export function RoutingSection({ settings, catalog, save }: Props) {
  const [mode, setMode] = useState<RoutingMode>(settings.routing.mode);
  const [fallback, setFallback] = useState(settings.routing.pinned_fallback ?? true);
  const [pins, setPins] = useState(pinsText(settings.routing.pins ?? {}));
  const [policy, setPolicy] = useState(() =>
    Object.fromEntries(LEVELS.map((level) => [level, ruleText(settings.data_policy[level])])) as Record<Sensitivity, { providers: string; locations: string }>,
  );
  const [errors, setErrors] = useState<FieldError[]>([]);
  const modelRefs = catalog.providers.flatMap((p) => p.models.map((m) => m.ref));

  const submit = async () => {
    const parsed = parsePins(pins);
    if (parsed.errors.length) return setErrors(parsed.errors);
    const dataPolicy: Partial<Record<Sensitivity, SensitivityRule>> = {};
    for (const level of LEVELS) {
      const providers = parseList(policy[level].providers);
      const locations = parseList(policy[level].locations);
      if (providers.length || locations.length) dataPolicy[level] = { ...(providers.length ? { providers } : {}), ...(locations.length ? { locations } : {}) };
    }
    setErrors(await save({ routing: { mode, pins: parsed.pins, pinned_fallback: fallback }, data_policy: dataPolicy }));
  };

  const message = (field: string) => errorsFor(errors, field).join("; ") || undefined;
  return (
    <section aria-label="Routing and data policy">
      <Title3>Routing</Title3>
      <form
        className="admin-form"
        data-testid="routing-form"
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        <Field label="Mode" validationMessage={message("routing/mode")}>
          <Select name="mode" value={mode} onChange={(_, data) => setMode(data.value as RoutingMode)}>
            {Object.entries(MODES).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </Select>
        </Field>
        <Field
          label="Pins (one skill per line: skill: provider/model, …)"
          hint={`Models: ${modelRefs.join(", ")}`}
          validationMessage={message("routing/pins")}
        >
          <Textarea name="pins" value={pins} rows={4} onChange={(_, data) => setPins(data.value)} placeholder="summarize: provider/model" />
        </Field>
        <Checkbox
          name="pinned_fallback"
          checked={fallback}
          onChange={(_, data) => setFallback(Boolean(data.checked))}
          label="When a pinned model fails, fall back to the other allowed models"
        />
        <Title3>Data policy</Title3>
        <Text size={200}>Per sensitivity: allowed providers (names, or * for all) and locations. Blank means no rule.</Text>
        {LEVELS.map((level) => (
          <div key={level} className="admin-policy-row">
            <Field label={`${level}: providers`} validationMessage={message(`data_policy/${level}/providers`)}>
              <Input name={`${level}-providers`} value={policy[level].providers} onChange={(_, data) => setPolicy((all) => ({ ...all, [level]: { ...all[level], providers: data.value } }))} />
            </Field>
            <Field label={`${level}: locations`} validationMessage={message(`data_policy/${level}/locations`)}>
              <Input name={`${level}-locations`} value={policy[level].locations} onChange={(_, data) => setPolicy((all) => ({ ...all, [level]: { ...all[level], locations: data.value } }))} />
            </Field>
          </div>
        ))}
        {errorsFor(errors, "(body)").map((text) => (
          <Text key={text} role="alert" className="admin-error">
            {text}
          </Text>
        ))}
        <Button type="submit" appearance="primary">
          Save routing and data policy
        </Button>
      </form>
    </section>
  );
}

function ruleText(rule: SensitivityRule | undefined): { providers: string; locations: string } {
  return { providers: (rule?.providers ?? []).join(", "), locations: (rule?.locations ?? []).join(", ") };
}
