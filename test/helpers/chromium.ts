import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (a test tool's own browser download is not reachable here). */
export const CHROMIUM = process.env['TESSERA_CHROMIUM'] ?? '/usr/bin/chromium';

/** Headless Chromium with the flags that keep it quiet and off the network it does not need. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
