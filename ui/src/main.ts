import "./app.css";
import { mount } from "svelte";
import App from "./App.svelte";
import { api } from "./lib/api";
import { installZoom } from "./lib/zoom";

// Ctrl+= / Ctrl+- / Ctrl+0 everywhere, the lock screen included; the size is saved with the
// settings when the store is unlocked (saving then is allowed), a moment after the last press.
let saveTimer: ReturnType<typeof setTimeout> | undefined;
installZoom((percent) => {
  clearTimeout(saveTimer);
  saveTimer = setTimeout(() => {
    api
      .settings()
      .then((s) => (s.text_size === percent ? s : api.saveSettings({ ...s, text_size: percent })))
      .catch(() => {});
  }, 600);
});

const target = document.getElementById("app");
if (!target) throw new Error("no #app element");
export default mount(App, { target });
