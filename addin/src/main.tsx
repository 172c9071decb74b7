// Entry point of the task pane: wait for Office, pick the host adapter, build the API client, render the pane.
import { FluentProvider } from "@fluentui/react-components";
import { createRoot } from "react-dom/client";
import { ApiClient } from "./api/client";
import { tokenProviderFor } from "./auth/auth";
import { readConfig } from "./config";
import { adapterFor } from "./hosts";
import { App } from "./ui/App";
import { paintPage, themeForOffice } from "./ui/theme";
import "./pane.css";

/** Mount the pane once Office has said which host it runs in. */
function mount(hostName: string | undefined): void {
  const root = createRoot(document.getElementById("root") as HTMLElement);
  const theme = themeForOffice(Office.context?.officeTheme);
  paintPage(theme);
  const host = adapterFor(hostName, (name, version) => Office.context.requirements.isSetSupported(name, version));
  if (host === null || host === "outdated") {
    const message = host === null ? "Switchboard runs in Word and Excel." : "Switchboard needs a newer version of Office (Word API 1.3 or Excel API 1.7).";
    root.render(
      <FluentProvider theme={theme}>
        <p role="alert">{message}</p>
      </FluentProvider>,
    );
    return;
  }
  const config = readConfig(window.location.search, import.meta.env as Record<string, string | undefined>);
  const client = new ApiClient(config.apiBaseUrl, tokenProviderFor(config, window.location.origin));
  root.render(
    <FluentProvider theme={theme} className="theme-root">
      <App client={client} host={host} />
    </FluentProvider>,
  );
}

Office.onReady((info) => mount(info.host ? String(info.host) : undefined));
