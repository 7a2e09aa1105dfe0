// Checks the browser harness itself: chromium starts and renders a page.
import { launch } from "./launch.mjs";

const browser = await launch();
const page = await browser.newPage();
await page.setContent("<p id=x>ok</p>");
const text = await page.textContent("#x");
await browser.close();
if (text !== "ok") {
  console.error(`smoke: got ${text}`);
  process.exit(1);
}
console.log("smoke: ok");
