// Follow the Office theme: dark Office themes get Fluent's dark theme, with the host's background behind the pane.
import { webDarkTheme, webLightTheme, type Theme } from "@fluentui/react-components";

/** The Fluent theme matching Office.context.officeTheme (absent in some hosts: light then). */
export function themeForOffice(officeTheme: { bodyBackgroundColor?: string } | undefined): Theme {
  const background = officeTheme?.bodyBackgroundColor;
  if (!background || !isDark(background)) return webLightTheme;
  return { ...webDarkTheme, colorNeutralBackground1: background };
}

/** Whether a #rrggbb colour is dark (relative luminance below one half). */
export function isDark(hex: string): boolean {
  const match = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex.trim());
  if (!match) return false;
  const [r, g, b] = match.slice(1).map((part) => parseInt(part, 16) / 255);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.5;
}

/** Paint the whole page in the theme's background, with matching scroll bars and form controls: the pane's content is
 * often shorter than the task pane, and below it the browser's default white would show under a dark Office theme. */
export function paintPage(theme: Theme, page: HTMLElement = document.documentElement): void {
  page.style.backgroundColor = theme.colorNeutralBackground1;
  page.style.colorScheme = isDark(theme.colorNeutralBackground1) ? "dark" : "light";
}
