// A skill's own parameters from its input_schema (translate's target language, rewrite's tone, the sensitivity
// that picks which models may see the text): a choice, a text, a number or a yes/no field each.
import { Field, Input, Select } from "@fluentui/react-components";
import type { SkillParameter } from "./skillInput";

interface Props {
  parameters: SkillParameter[];
  values: Record<string, string>;
  onChange: (name: string, value: string) => void;
}

export function SkillParameters({ parameters, values, onChange }: Props) {
  return (
    <>
      {parameters.map((parameter) => (
        <Field key={parameter.name} label={parameter.label} required={parameter.required} hint={parameter.hint}>
          {parameter.kind === "choice" || parameter.kind === "flag" ? (
            <Select data-testid={`param-${parameter.name}`} value={values[parameter.name] ?? ""} onChange={(_, data) => onChange(parameter.name, data.value)}>
              <option value="">{parameter.required ? "Choose…" : "(default)"}</option>
              {(parameter.kind === "flag" ? ["true", "false"] : parameter.choices).map((choice) => (
                <option key={choice} value={choice}>
                  {parameter.kind === "flag" ? (choice === "true" ? "Yes" : "No") : choice.replace(/_/g, " ")}
                </option>
              ))}
            </Select>
          ) : (
            <Input
              data-testid={`param-${parameter.name}`}
              type={parameter.kind === "number" ? "number" : "text"}
              value={values[parameter.name] ?? ""}
              onChange={(_, data) => onChange(parameter.name, data.value)}
            />
          )}
        </Field>
      ))}
    </>
  );
}
