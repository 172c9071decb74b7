// The console shell: sign in, check the tenant_admin role BEFORE any admin call, then one tab per area. Every save is
// a PATCH with the version it started from; 422 details go back to the section to show beside its fields.
import { Button, MessageBar, MessageBarBody, MessageBarTitle, Spinner, Tab, TabList, Title2, Text } from "@fluentui/react-components";
import { useCallback, useEffect, useState } from "react";
import { ApiProblem } from "../api/errors";
import type { Me } from "../api/types";
import type { AdminClient, Catalog, SettingsPatch, TenantSettings } from "./api";
import { AuditSection } from "./sections/AuditSection";
import { LimitsSection } from "./sections/LimitsSection";
import { ProvidersSection } from "./sections/ProvidersSection";
import { RoutingSection } from "./sections/RoutingSection";
import { UsageSection } from "./sections/UsageSection";
import { detailsOf, withVersion, type FieldError } from "./settingsForm";

export type SaveSettings = (patch: SettingsPatch) => Promise<FieldError[]>;

type Phase = { kind: "loading" } | { kind: "denied"; me: Me | null } | { kind: "failed"; message: string } | { kind: "ready" };
const TABS = { providers: "Providers and models", routing: "Routing and data policy", limits: "Budgets, limits and skills", usage: "Usage", audit: "Audit log" };
type TabName = keyof typeof TABS;

export function AdminApp({ client }: { client: AdminClient }) {
  const [phase, setPhase] = useState<Phase>({ kind: "loading" });
  const [me, setMe] = useState<Me | null>(null);
  const [settings, setSettings] = useState<TenantSettings | null>(null);
  const [catalog, setCatalog] = useState<Catalog | null>(null);
  const [tab, setTab] = useState<TabName>("providers");
  const [notice, setNotice] = useState<string | null>(null);

  const reload = useCallback(async () => {
    const [fresh, known] = await Promise.all([client.tenant(), client.catalog()]);
    setSettings(fresh);
    setCatalog(known);
  }, [client]);

  useEffect(() => {
    (async () => {
      try {
        const who = await client.me();
        setMe(who);
        if (!who.roles.includes("tenant_admin")) return setPhase({ kind: "denied", me: who });
        await reload();
        setPhase({ kind: "ready" });
      } catch (error) {
        if (error instanceof ApiProblem && error.status === 403) return setPhase({ kind: "denied", me: null });
        if (error instanceof ApiProblem && error.code === "sign_in_redirect") return; // leaving for the sign-in page
        setPhase({ kind: "failed", message: error instanceof Error ? error.message : "The console could not load." });
      }
    })();
  }, [client, reload]);

  const save: SaveSettings = useCallback(
    async (patch) => {
      if (!settings) return [];
      setNotice(null);
      try {
        setSettings(await client.updateTenant(withVersion(patch, settings)));
        setCatalog(await client.catalog());
        setNotice("Saved.");
        return [];
      } catch (error) {
        if (error instanceof ApiProblem && error.status === 409) {
          await reload();
          setNotice("Someone else changed the settings meanwhile: the page shows theirs now; make your change again.");
          return [];
        }
        const details = detailsOf(error);
        if (details.length) return details;
        return [{ field: "(body)", message: error instanceof Error ? error.message : "Saving failed." }];
      }
    },
    [client, settings, reload],
  );

  if (phase.kind === "loading") return <Spinner label="Signing in…" />;
  if (phase.kind === "denied") return <NotAllowed me={phase.me} />;
  if (phase.kind === "failed" || !settings || !catalog) {
    return (
      <MessageBar intent="error" role="alert">
        <MessageBarBody>
          <MessageBarTitle>The console could not load</MessageBarTitle>
          {phase.kind === "failed" ? phase.message : ""}
        </MessageBarBody>
      </MessageBar>
    );
  }
  return (
    <div className="admin-shell">
      <header className="admin-header">
        <Title2>Switchboard admin · {settings.name}</Title2>
        <Text size={200}>
          Signed in as {me?.name || me?.user_id} · settings version <span data-testid="settings-version">{settings.version}</span>
        </Text>
      </header>
      <TabList selectedValue={tab} onTabSelect={(_, data) => setTab(data.value as TabName)}>
        {Object.entries(TABS).map(([value, label]) => (
          <Tab key={value} value={value} data-testid={`tab-${value}`}>
            {label}
          </Tab>
        ))}
      </TabList>
      {notice ? (
        <MessageBar intent="info" data-testid="notice">
          <MessageBarBody>{notice}</MessageBarBody>
        </MessageBar>
      ) : null}
      <main className="admin-main">
        {/* Keyed by version: a form starts again from the settings as saved, after a save or someone else's (409). */}
        {tab === "providers" && <ProvidersSection key={settings.version} client={client} settings={settings} catalog={catalog} save={save} />}
        {tab === "routing" && <RoutingSection key={settings.version} settings={settings} catalog={catalog} save={save} />}
        {tab === "limits" && <LimitsSection key={settings.version} settings={settings} catalog={catalog} save={save} />}
        {tab === "usage" && <UsageSection client={client} />}
        {tab === "audit" && <AuditSection client={client} version={settings.version} />}
      </main>
    </div>
  );
}

function NotAllowed({ me }: { me: Me | null }) {
  return (
    <div className="admin-denied" data-testid="not-allowed">
      <MessageBar intent="error" role="alert">
        <MessageBarBody>
          <MessageBarTitle>Not allowed</MessageBarTitle>
          The admin console is for tenant administrators only{me ? ` (you are signed in as ${me.name || me.user_id})` : ""}. Ask your
          administrator for the Tenant.Admin role.
        </MessageBarBody>
      </MessageBar>
      <Button appearance="subtle" onClick={() => window.location.reload()}>
        Try again
      </Button>
    </div>
  );
}
