// Entry point of the admin console (admin.html, served at /addin/admin.html): a plain browser page, no Office.
import { FluentProvider, webLightTheme } from "@fluentui/react-components";
import { createRoot } from "react-dom/client";
import { readConfig } from "../config";
import { AdminClient } from "./api";
import { AdminApp } from "./AdminApp";
import { consoleConfig, consoleTokenProvider } from "./auth";
import "./admin.css";

const config = consoleConfig(readConfig(window.location.search, import.meta.env as Record<string, string | undefined>), window.location.search);
const client = new AdminClient(config.apiBaseUrl, consoleTokenProvider(config, window.location.origin));
createRoot(document.getElementById("root") as HTMLElement).render(
  <FluentProvider theme={webLightTheme} className="admin-root">
    <AdminApp client={client} />
  </FluentProvider>,
);
