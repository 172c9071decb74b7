// Providers and models: enable or disable, set a key (write-only: the field is emptied once sent and a stored key
// only shows as "key set", or "key unreadable" when it must be set again), add a self-hosted endpoint, test the
// connection. A provider the catalog cannot use says why and what to do.
import { Badge, Button, Field, Input, Switch, Text, Title3 } from "@fluentui/react-components";
import { useState } from "react";
import type { AdminClient, Catalog, CatalogProvider, ConnectionTest, TenantSettings, UnusableReason } from "../api";
import type { SaveSettings } from "../AdminApp";
import { providerRows, testLabel, UNUSABLE_ADVICE, type KeyState } from "../providerRows";
import { errorsFor, providersPatch, selfHostedProvider, withProviderEnabled, type FieldError, type NewEndpoint } from "../settingsForm";

const EMPTY_ENDPOINT: NewEndpoint = { name: "", baseUrl: "", modelId: "", contextWindow: "32000", location: "on-prem" };

interface Props {
  client: AdminClient;
  settings: TenantSettings;
  catalog: Catalog;
  save: SaveSettings;
}

export function ProvidersSection({ client, settings, catalog, save }: Props) {
  const [keys, setKeys] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [tests, setTests] = useState<Record<string, ConnectionTest | "running">>({});
  const [endpoint, setEndpoint] = useState<NewEndpoint>(EMPTY_ENDPOINT);
  const [endpointKey, setEndpointKey] = useState("");
  const [endpointErrors, setEndpointErrors] = useState<FieldError[]>([]);

  const toggle = async (name: string, enabled: boolean) => setErrors(await save(providersPatch(withProviderEnabled(settings.providers, name, enabled), {})));

  const setKey = async (name: string) => {
    const typed = keys[name] ?? "";
    setKeys((all) => ({ ...all, [name]: "" })); // out of the page at once, whatever the answer
    const withRow = settings.providers.some((p) => p.name === name) ? settings.providers : [...settings.providers, { name }];
    setErrors(await save(providersPatch(withRow, { [name]: typed })));
  };

  const test = async (name: string) => {
    setTests((all) => ({ ...all, [name]: "running" }));
    try {
      const result = await client.testProvider(name);
      setTests((all) => ({ ...all, [name]: result }));
    } catch (error) {
      setTests((all) => ({ ...all, [name]: { ok: false, error: (error as { code?: string }).code ?? "failed" } }));
    }
  };

  const addEndpoint = async () => {
    const index = settings.providers.length;
    const typed = endpointKey;
    setEndpointKey("");
    const found = await save(providersPatch([...settings.providers, selfHostedProvider(endpoint)], { [endpoint.name.trim()]: typed }));
    // The new entry is the last one: its errors are `providers/<index>/...`.
    setEndpointErrors(found.filter((e) => e.field.startsWith(`providers/${index}`) || e.field === "(body)"));
    setErrors(found.filter((e) => !e.field.startsWith(`providers/${index}`) && e.field !== "(body)"));
    if (!found.length) setEndpoint(EMPTY_ENDPOINT);
  };

  const rowErrors = (name: string) => {
    const index = settings.providers.findIndex((p) => p.name === name);
    return index < 0 ? [] : errorsFor(errors, `providers/${index}`);
  };

  return (
    <section aria-label="Providers and models">
      <Title3>Providers and models</Title3>
      <table className="admin-table" data-testid="providers-table">
        <thead>
          <tr>
            <th>Provider</th>
            <th>Models</th>
            <th>Enabled</th>
            <th>API key</th>
            <th>Connection</th>
          </tr>
        </thead>
        <tbody>
          {providerRows(catalog, settings).map(({ provider, unusable, keyState }) => (
            <ProviderRow
              key={provider.name}
              provider={provider}
              unusable={unusable}
              keyState={keyState}
              typedKey={keys[provider.name] ?? ""}
              onKey={(value) => setKeys((all) => ({ ...all, [provider.name]: value }))}
              onSetKey={() => setKey(provider.name)}
              onToggle={(enabled) => toggle(provider.name, enabled)}
              onTest={() => test(provider.name)}
              test={tests[provider.name]}
              errors={rowErrors(provider.name)}
            />
          ))}
        </tbody>
      </table>
      {errorsFor(errors, "(body)").map((message) => (
        <Text key={message} role="alert" className="admin-error">
          {message}
        </Text>
      ))}
      <Title3>Add a self-hosted endpoint</Title3>
      <Text size={200}>An OpenAI-compatible server; its host must be one the platform allows.</Text>
      <form
        className="admin-form"
        data-testid="endpoint-form"
        onSubmit={(event) => {
          event.preventDefault();
          void addEndpoint();
        }}
      >
        {(
          [
            ["name", "Name", "providers/" + settings.providers.length + "/name"],
            ["baseUrl", "Base URL", "providers/" + settings.providers.length],
            ["modelId", "Model id", "providers/" + settings.providers.length + "/models"],
            ["contextWindow", "Context window (tokens)", ""],
            ["location", "Location", ""],
          ] as const
        ).map(([key, label, field]) => (
          <Field key={key} label={label} validationMessage={key === "baseUrl" ? errorsFor(endpointErrors, field).join("; ") || undefined : undefined}>
            <Input name={key} value={endpoint[key]} onChange={(_, data) => setEndpoint((all) => ({ ...all, [key]: data.value }))} />
          </Field>
        ))}
        <Field label="API key (optional, write-only)">
          <Input name="endpoint-key" type="password" autoComplete="off" value={endpointKey} onChange={(_, data) => setEndpointKey(data.value)} />
        </Field>
        <Button type="submit" appearance="primary">
          Add endpoint
        </Button>
      </form>
    </section>
  );
}

interface RowProps {
  provider: CatalogProvider;
  unusable: UnusableReason | null;
  keyState: KeyState;
  typedKey: string;
  onKey: (value: string) => void;
  onSetKey: () => void;
  onToggle: (enabled: boolean) => void;
  onTest: () => void;
  test: ConnectionTest | "running" | undefined;
  errors: string[];
}

function ProviderRow({ provider, unusable, keyState, typedKey, onKey, onSetKey, onToggle, onTest, test, errors }: RowProps) {
  return (
    <tr data-testid={`provider-${provider.name}`}>
      <td>
        <strong>{provider.name}</strong>
        <div>
          <Badge appearance="outline">{provider.owner === "platform" ? "platform" : "own"}</Badge> {provider.type} · {provider.location}
        </div>
        {provider.base_url ? (
          <Text size={200} block>
            {provider.base_url}
          </Text>
        ) : null}
        {unusable ? (
          <Text role="alert" className="admin-warning" data-testid={`unusable-${provider.name}`}>
            {UNUSABLE_ADVICE[unusable]}
          </Text>
        ) : null}
        {errors.map((message) => (
          <Text key={message} role="alert" className="admin-error" block>
            {message}
          </Text>
        ))}
      </td>
      <td>
        {provider.models.map((model) => (
          <div key={model.ref}>
            {model.id} <Text size={200}>(tier {model.tier}, {model.location}, ${model.price_per_million.input}/${model.price_per_million.output} per M)</Text>
          </div>
        ))}
      </td>
      <td>
        <Switch checked={provider.enabled} aria-label={`Enable ${provider.name}`} onChange={(_, data) => onToggle(data.checked)} />
      </td>
      <td>
        <div className="admin-key">
          <KeyBadge state={keyState} owner={provider.owner} />
          <Input type="password" autoComplete="off" placeholder="New key" aria-label={`New key for ${provider.name}`} value={typedKey} onChange={(_, data) => onKey(data.value)} />
          <Button size="small" disabled={!typedKey.trim()} onClick={onSetKey}>
            Set key
          </Button>
        </div>
      </td>
      <td>
        <Button size="small" onClick={onTest} disabled={test === "running"}>
          Test connection
        </Button>
        <div data-testid={`test-${provider.name}`}>{testLabel(test)}</div>
      </td>
    </tr>
  );
}

function KeyBadge({ state, owner }: { state: KeyState; owner: CatalogProvider["owner"] }) {
  if (state === "unreadable") {
    return (
      <Badge color="danger" data-testid="key-unreadable">
        key unreadable — set it again
      </Badge>
    );
  }
  if (state === "set") {
    return (
      <Badge color="success" data-testid="key-set">
        key set
      </Badge>
    );
  }
  return <Badge appearance="ghost">{owner === "platform" ? "platform key" : "no key"}</Badge>;
}
